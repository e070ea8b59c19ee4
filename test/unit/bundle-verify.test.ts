import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { canonicalJson, contentDigest } from '../../lib/evidence/canonical-json';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import type { EvidenceEvent } from '../../lib/evidence/evidence-event';
import { packDirectory } from '../support/bundle-writer/pack-directory';
import { verifyBundle, verifyBundlePath } from '../../lib/bundle/verify-bundle';
import type { VerifyResult } from '../../lib/bundle/verify-bundle';
import { writeBundle, writeBundleTarGz } from '../support/bundle-writer/write-bundle';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import { bundleFiles, memoryBundle, testSigner, writeTestBundle } from '../support/bundles';
import { goldenBundleDir } from '../support/ecs-spec';
import { syntheticChain } from '../support/synthetic-chain';
import { makeTempDir } from '../../testkit/temp-dir';

const failed = (result: VerifyResult): string[] => result.checks.filter((check) => !check.ok).map((check) => check.name);
const warned = (result: VerifyResult): string[] => result.checks.filter((check) => check.warning).map((check) => check.name);
const GOLDEN_LOOSE = 'manifest.json, profile-claim.json, verifier-inputs.json';

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let signer: BundleSigner;
beforeAll(async () => {
  temp = await makeTempDir('ecs-bundle-');
  signer = await testSigner(temp.path);
});
afterAll(() => temp.remove());

describe.each(['baseline', 'ncp'] as const)('golden bundle %s as published', (name) => {
  it('verifies from its directory and as a .tar.gz', async () => {
    const result = await verifyBundlePath(goldenBundleDir(name));
    expect(failed(result)).toEqual([]);
    expect(result.events).toBe(3);
    expect(warned(result)).toEqual(['signature', 'coverage']);
    expect(result.checks.find((check) => check.name === 'coverage')!.detail).toContain(GOLDEN_LOOSE);

    const archive = path.join(temp.path, `${name}.tar.gz`);
    await packDirectory(goldenBundleDir(name), createWriteStream(archive));
    expect(failed(await verifyBundlePath(archive))).toEqual([]);
  });

  it('fails full coverage: its manifest, verifier inputs and profile claim are bound by no hash', async () => {
    const result = await verifyBundlePath(goldenBundleDir(name), { requireFullCoverage: true });
    expect(failed(result)).toEqual(['coverage']);
  });
});

describe('a tampered golden bundle names the failing check', () => {
  let golden: Map<string, Buffer>;
  beforeAll(async () => {
    golden = await bundleFiles(goldenBundleDir('baseline'));
  });

  const lines = (): string[] => golden.get('events.jsonl')!.toString().trimEnd().split('\n');
  const withEvents = (texts: string[]): Map<string, Buffer> => new Map(golden).set('events.jsonl', Buffer.from(`${texts.join('\n')}\n`));
  const editJson = (file: string, edit: (value: JsonObject) => void): Map<string, Buffer> => {
    const value = JSON.parse(golden.get(file)!.toString()) as JsonObject;
    edit(value);
    return new Map(golden).set(file, Buffer.from(JSON.stringify(value, null, 2)));
  };
  const verify = async (files: Map<string, Buffer>): Promise<string[]> => failed(await verifyBundle(memoryBundle(files)));

  it('an edited event: event-hashes, chain-continuity', async () => {
    const events = lines();
    events[1] = canonicalJson({ ...(JSON.parse(events[1]!) as JsonObject), outcome: 'refused' });
    expect(await verify(withEvents(events))).toEqual(expect.arrayContaining(['event-hashes', 'chain-continuity']));
  });

  it('an edited and re-hashed event: chain-continuity, segment, bundle-hash', async () => {
    const events = lines();
    const { event_hash: _old, ...rest } = JSON.parse(events[1]!) as JsonObject;
    const changed = { ...rest, actor: 'mallory' };
    events[1] = canonicalJson({ ...changed, event_hash: contentDigest(changed) });
    const result = await verify(withEvents(events));
    expect(result).toEqual(expect.arrayContaining(['chain-continuity', 'segment', 'bundle-hash', 'segment-hash']));
    expect(result).not.toContain('event-hashes');
  });

  it('reordered, dropped or non-canonical lines', async () => {
    const events = lines();
    expect(await verify(withEvents([events[0]!, events[2]!, events[1]!]))).toContain('chain-continuity');
    expect(await verify(withEvents(events.slice(0, 2)))).toEqual(expect.arrayContaining(['scope', 'segment', 'bundle-hash']));
    expect(await verify(withEvents([JSON.stringify(JSON.parse(events[0]!), null, 1).replace(/\n/g, ''), ...events.slice(1)]))).toContain(
      'event-hashes',
    );
  });

  it('checklist 52: a changed artifact, chain segment, profile, tenant or file set', async () => {
    const artifact = new Map(golden).set('artifacts/policy-snapshot.json', Buffer.from('{"id":"pol-001","version":"1.1","rules":[]}\n'));
    expect(await verify(artifact)).toEqual(['evidence-pointers']);
    const segment = editJson('chain-segment.json', (value) => {
      (value.events as JsonObject[])[0]!.id = 'evt-forged';
    });
    expect(await verify(segment)).toEqual(['segment', 'chain-segment-ref']);
    expect(await verify(editJson('manifest.json', (value) => void (value.evidence_profile_id = 'ecs-evidence-ncp')))).toContain(
      'profile-id',
    );
    expect(await verify(editJson('manifest.json', (value) => void (value.tenant_id = 'tenant-999')))).toContain('tenant');
    const inherited = new Map(golden);
    for (const file of ['manifest.json', 'verifier-inputs.json', 'profile-claim.json', 'chain-segment.json']) {
      inherited.set(file, Buffer.from(inherited.get(file)!.toString().replaceAll('ecs-evidence-baseline', 'constructor')));
    }
    expect(await verify(inherited)).toEqual(expect.arrayContaining(['manifest-fields']));
    expect(await verify(new Map(golden).set('notes.txt', Buffer.from('hi')))).toEqual(['files']);
    const missing = new Map(golden);
    missing.delete('events.jsonl');
    expect(await verify(missing)).toEqual(expect.arrayContaining(['files', 'event-hashes']));
    const orphan = new Map(golden).set('artifacts/extra.json', Buffer.from('{}'));
    expect(await verify(orphan)).toEqual(['evidence-pointers']);
  });

  it('an NCP bundle whose declared artifact is gone', async () => {
    const ncp = await bundleFiles(goldenBundleDir('ncp'));
    ncp.delete('artifacts/key-custody.json');
    expect(failed(await verifyBundle(memoryBundle(ncp)))).toEqual(['evidence-pointers', 'ncp-artifacts']);
  });
});

describe('bundles written by write-bundle', () => {
  it('round-trip through verify as a directory and as a .tar.gz, signed with the service key', async () => {
    const dir = path.join(temp.path, 'signed');
    await writeTestBundle(dir, { signer, count: 40 });
    const selfKeyed = await verifyBundlePath(dir);
    expect(failed(selfKeyed)).toEqual([]);
    expect(warned(selfKeyed)).toEqual(['signature']);
    const pinned = await verifyBundlePath(dir, { jwks: signer.jwks, requireFullCoverage: true });
    expect(failed(pinned)).toEqual([]);
    expect(warned(pinned)).toEqual([]);
    expect(pinned.events).toBe(40);

    const chain = syntheticChain({ count: 40 });
    const archive = path.join(temp.path, 'signed.tar.gz');
    await writeBundleTarGz(
      {
        events: chain.events(),
        artifacts: chain.artifacts,
        profileId: 'ecs-evidence-admissible',
        producer: { issuerId: 'p', producerId: 'x' },
        signer,
      },
      createWriteStream(archive),
    );
    expect(failed(await verifyBundlePath(archive, { jwks: signer.jwks, requireFullCoverage: true }))).toEqual([]);
  });

  it('rejects a signature by a key other than the pinned one', async () => {
    const dir = path.join(temp.path, 'other-key');
    await writeTestBundle(dir, { signer });
    const other = await testSigner(temp.path, 'other-keys.json');
    // An unverified signature binds nothing, so the signed bundle's manifest is loose too.
    expect(failed(await verifyBundlePath(dir, { jwks: other.jwks }))).toEqual(['signature', 'coverage']);
  });

  it('unsigned: valid, with only manifest.json bound by nothing', async () => {
    const dir = path.join(temp.path, 'unsigned');
    await writeTestBundle(dir);
    const result = await verifyBundlePath(dir);
    expect(failed(result)).toEqual([]);
    expect(result.checks.find((check) => check.name === 'coverage')!.detail).toMatch(/^bound by no hash or signature: manifest\.json \(/);
  });

  it('NCP declarations in an NCP bundle verify, and are refused in a baseline bundle', async () => {
    const ncp = path.join(temp.path, 'ncp');
    await writeTestBundle(ncp, { signer, ncp: true, profileId: 'ecs-evidence-ncp' });
    expect(failed(await verifyBundlePath(ncp, { jwks: signer.jwks }))).toEqual([]);
    const baseline = path.join(temp.path, 'baseline-with-ncp');
    await writeTestBundle(baseline, { signer, ncp: true, profileId: 'ecs-evidence-baseline' });
    expect(failed(await verifyBundlePath(baseline, { jwks: signer.jwks }))).toEqual(['ncp-artifacts']);
  });

  it('refusals without their classification fail the refusals check', async () => {
    const chain = syntheticChain({ count: 8 });
    async function* stripped(): AsyncGenerator<EvidenceEvent> {
      let prev: string | undefined;
      for (const event of chain.events()) {
        const { event_hash: _hash, prev_hash: _prev, refusal_reason_class: _class, ...rest } = event;
        const unhashed: JsonObject = { ...rest, ...(prev ? { prev_hash: prev } : {}) };
        prev = contentDigest(unhashed);
        yield { ...unhashed, event_hash: prev } as EvidenceEvent;
      }
    }
    const dir = path.join(temp.path, 'refusals');
    await writeBundle(
      { events: stripped(), artifacts: chain.artifacts, profileId: 'ecs-evidence-baseline', producer: { issuerId: 'p', producerId: 'x' } },
      dir,
    );
    const result = await verifyBundlePath(dir);
    expect(failed(result)).toEqual(['refusals']);
    expect(result.checks.find((check) => check.name === 'refusals')!.detail).toContain('lacks refusal_reason_class');
  });

  it('the writer refuses a broken chain, a missing or wrong artifact, and a non-empty directory', async () => {
    const chain = syntheticChain({ count: 5 });
    const producer = { issuerId: 'p', producerId: 'x' };
    const events = [...chain.events()];
    const gap = [events[0]!, events[2]!];
    await expect(
      writeBundle({ events: gap, artifacts: chain.artifacts, profileId: 'ecs-evidence-baseline', producer }, path.join(temp.path, 'w1')),
    ).rejects.toThrow(/does not continue the chain/);
    await expect(
      writeBundle({ events, artifacts: new Map(), profileId: 'ecs-evidence-baseline', producer }, path.join(temp.path, 'w2')),
    ).rejects.toThrow(/no artifact/);
    const wrong = new Map([...chain.artifacts].map(([pointer]) => [pointer, Buffer.from('{}')]));
    await expect(
      writeBundle({ events, artifacts: wrong, profileId: 'ecs-evidence-baseline', producer }, path.join(temp.path, 'w3')),
    ).rejects.toThrow(/does not match/);
    await expect(
      writeBundle({ events, artifacts: chain.artifacts, profileId: 'ecs-evidence-baseline', producer }, path.join(temp.path, 'signed')),
    ).rejects.toThrow(/not empty/);
  });

  it('streams a long chain: 10,000 events through .tar.gz and back', async () => {
    const chain = syntheticChain({ count: 10_000 });
    const archive = path.join(temp.path, 'long.tar.gz');
    async function* events(): AsyncGenerator<EvidenceEvent> {
      yield* chain.events();
    }
    const written = await writeBundleTarGz(
      {
        events: events(),
        artifacts: async (pointer) => chain.artifacts.get(pointer),
        profileId: 'ecs-evidence-admissible',
        producer: { issuerId: 'p', producerId: 'x' },
        signer,
      },
      createWriteStream(archive),
    );
    expect(written.events).toBe(10_000);
    const result = await verifyBundlePath(archive, { jwks: signer.jwks });
    expect(failed(result)).toEqual([]);
    expect(result.events).toBe(10_000);
  });
});
