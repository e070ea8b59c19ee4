import type { BundleScope } from '../../lib/bundle/bundle-source';
import { planBundle } from '../../lib/bundle/plan-bundle';
import type { BundlePlan, BundleSigner } from '../../lib/bundle/plan-bundle';
import { canonicalJson } from '../../lib/evidence/canonical-json';
import { verifyExportBundle } from '../../subgraphs/audit/exports/verify-export';
import { testSigner } from '../support/bundles';
import { memorySource } from '../support/memory-source';
import { syntheticChain } from '../support/synthetic-chain';
import { makeTempDir } from '../../testkit/temp-dir';

/** The audit plane's verdict on an export: the offline verifier run on the bundle file it wrote. */
describe('verifyExportBundle', () => {
  const count = 30;
  const chain = syntheticChain({ count });
  const events = [...chain.events()].map((event) => ({ text: canonicalJson(event), event }));
  const scope: BundleScope = {
    tenantId: 'tenant-synthetic',
    chainId: 'ecs:tenant:tenant-synthetic',
    fromSequence: 1,
    toSequence: count,
    profileId: 'ecs-evidence-baseline',
  };
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let signer: BundleSigner;
  let plan: BundlePlan;

  beforeAll(async () => {
    temp = await makeTempDir('ecs-verify-export-');
    signer = await testSigner(temp.path);
    plan = await planBundle({
      source: memorySource(events, chain.artifacts),
      scope,
      producer: { issuerId: 'provider-test', producerId: 'ecs-gateway' },
      signer,
      exportId: 'exp-verdict',
      createdAt: new Date('2026-01-02T03:04:05Z'),
      repeatedPointers: new Map(),
    });
  });
  afterAll(() => temp.remove());

  it('is valid for the bundle as planned, with the keys that signed it', async () => {
    const verdict = await verifyExportBundle({ plan, source: memorySource(events, chain.artifacts), jwks: signer.jwks });
    expect(verdict).toEqual({ valid: true, checks: expect.any(Number), events: count, failures: [] });
    expect(verdict.checks).toBeGreaterThanOrEqual(20);
  });

  it('names the failed checks when the published keys do not include the signing key', async () => {
    const other = await testSigner(temp.path, 'other-keys.json');
    const verdict = await verifyExportBundle({ plan, source: memorySource(events, chain.artifacts), jwks: other.jwks });
    expect(verdict.valid).toBe(false);
    expect(verdict.failures).toEqual(expect.arrayContaining([expect.stringMatching(/^signature: /)]));
  });

  it('throws when the events no longer match the plan (the bundle cannot be written)', async () => {
    const altered = events.map((item, index) =>
      index === 4 ? { ...item, text: item.text.replace('"outcome":"accepted"', '"outcome":"refused"') } : item,
    );
    expect(altered[4]!.text).not.toBe(events[4]!.text);
    await expect(verifyExportBundle({ plan, source: memorySource(altered, chain.artifacts), jwks: signer.jwks })).rejects.toThrow();
  });
});
