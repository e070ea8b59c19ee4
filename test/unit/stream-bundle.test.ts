import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BundleScope, SourceEvent } from '../../lib/bundle/bundle-source';
import { planBundle } from '../../lib/bundle/plan-bundle';
import { bundleTarGzStream } from '../../lib/bundle/stream-bundle';
import { verifyBundlePath } from '../../lib/bundle/verify-bundle';
import { memorySource } from '../support/memory-source';
import { writeBundle } from '../support/bundle-writer/write-bundle';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import { canonicalJson, contentDigest, sha256Digest } from '../../lib/evidence/canonical-json';
import type { EvidenceEvent } from '../../lib/evidence/evidence-event';
import { bundleFiles, testSigner } from '../support/bundles';
import { syntheticChain } from '../support/synthetic-chain';
import { makeTempDir } from '../../testkit/temp-dir';

const producer = { issuerId: 'provider-test', producerId: 'ecs-gateway' };
const createdAt = new Date('2026-01-02T03:04:05Z');

function repeatedPointers(events: readonly EvidenceEvent[]): Map<string, number> {
  const first = new Map<string, number>();
  const repeated = new Map<string, number>();
  for (const event of events) {
    const seen = first.get(event.evidence_pointer);
    if (seen === undefined) first.set(event.evidence_pointer, event.sequence);
    else repeated.set(event.evidence_pointer, seen);
  }
  return repeated;
}

async function toFile(stream: NodeJS.ReadableStream, file: string): Promise<void> {
  const chunks: Buffer[] = [];
  await pipeline(
    stream,
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        chunks.push(chunk);
        done();
      },
    }),
  );
  await writeFile(file, Buffer.concat(chunks));
}

describe('a planned bundle streamed from its source', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let signer: BundleSigner;
  beforeAll(async () => {
    temp = await makeTempDir('ecs-stream-');
    signer = await testSigner(temp.path);
  });
  afterAll(() => temp.remove());

  it.each(['ecs-evidence-admissible', 'ecs-evidence-ncp'])(
    'is byte for byte the bundle write-bundle writes (%s), and verifies',
    async (profileId) => {
      const chain = syntheticChain({ count: 230, ncp: profileId === 'ecs-evidence-ncp' });
      const events = [...chain.events()];
      const policy = Buffer.from(canonicalJson({ baseline: 'b', text: 'permit(principal, action, resource);' }));
      const policyRef = `eosc://artifact/${sha256Digest(policy)}`;
      const artifacts = new Map([...chain.artifacts, [policyRef, policy]]);
      const manifestArtifacts = { policy_snapshots: [policyRef] };
      const exportId = `exp-${profileId}`;
      const written = path.join(temp.path, `written-${profileId}`);
      await writeBundle({ events, artifacts, profileId, producer, signer, exportId, createdAt, manifestArtifacts }, written);

      const scope: BundleScope = {
        tenantId: 'tenant-synthetic',
        chainId: 'ecs:tenant:tenant-synthetic',
        fromSequence: 1,
        toSequence: 230,
        profileId,
      };
      const source = memorySource(
        events.map((event) => ({ text: canonicalJson(event), event })),
        artifacts,
        37,
      );
      const plan = await planBundle({
        source,
        scope,
        producer,
        signer,
        exportId,
        createdAt,
        manifestArtifacts,
        repeatedPointers: repeatedPointers(events),
      });
      // The plan survives a round trip through JSON (it is stored as text).
      const stored = JSON.parse(JSON.stringify(plan)) as typeof plan;
      const archive = path.join(temp.path, `streamed-${profileId}.tar.gz`);
      await toFile(bundleTarGzStream(stored, source), archive);

      const [expected, actual] = [await bundleFiles(written), await bundleFiles(archive)];
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [name, bytes] of expected) expect({ name, same: actual.get(name)!.equals(bytes) }).toEqual({ name, same: true });
      const result = await verifyBundlePath(archive, { jwks: signer.jwks });
      expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    },
  );

  it('a range in the middle of the chain verifies too', async () => {
    const events = [...syntheticChain({ count: 60 }).events()];
    const chain = syntheticChain({ count: 60 });
    const range = events.slice(19, 45);
    const scope: BundleScope = {
      tenantId: 'tenant-synthetic',
      chainId: 'ecs:tenant:tenant-synthetic',
      fromSequence: 20,
      toSequence: 45,
      profileId: 'ecs-evidence-baseline',
    };
    const source = memorySource(
      range.map((event) => ({ text: canonicalJson(event), event })),
      chain.artifacts,
    );
    const plan = await planBundle({
      source,
      scope,
      producer,
      signer,
      exportId: 'exp-mid',
      createdAt,
      repeatedPointers: repeatedPointers(range),
    });
    const archive = path.join(temp.path, 'middle.tar.gz');
    await toFile(bundleTarGzStream(plan, source), archive);
    expect((await verifyBundlePath(archive, { jwks: signer.jwks })).ok).toBe(true);
  });

  it('refuses to plan a broken chain, a wrong range, a missing artifact or an NCP declaration outside the NCP profile', async () => {
    const chain = syntheticChain({ count: 20, ncp: true });
    const events = [...chain.events()];
    const lines = (list: EvidenceEvent[]): SourceEvent[] => list.map((event) => ({ text: canonicalJson(event), event }));
    const scope: BundleScope = {
      tenantId: 'tenant-synthetic',
      chainId: 'ecs:tenant:tenant-synthetic',
      fromSequence: 1,
      toSequence: 20,
      profileId: 'ecs-evidence-ncp',
    };
    const plan = (list: EvidenceEvent[], overrides: Partial<BundleScope> = {}, artifacts = chain.artifacts) =>
      planBundle({
        source: memorySource(lines(list), artifacts),
        scope: { ...scope, ...overrides },
        producer,
        exportId: 'x',
        createdAt,
        repeatedPointers: repeatedPointers(list),
      });
    await expect(plan([...events.slice(0, 5), ...events.slice(6)])).rejects.toThrow(/expected sequence 6/);
    await expect(plan(events, { toSequence: 21 })).rejects.toThrow(/read 20/);
    await expect(plan(events, {}, new Map())).rejects.toThrow(/no artifact/);
    await expect(plan(events, { profileId: 'ecs-evidence-baseline' })).rejects.toThrow(/No-Control Profile/);
    const edited = events.map((event) => (event.sequence === 7 ? { ...event, actor: 'mallory' } : event));
    await expect(plan(edited)).rejects.toThrow(/does not continue the chain/);
  });

  it('fails the stream, not the verifier, when the events changed after the plan', async () => {
    const chain = syntheticChain({ count: 30 });
    const events = [...chain.events()];
    const scope: BundleScope = {
      tenantId: 'tenant-synthetic',
      chainId: 'ecs:tenant:tenant-synthetic',
      fromSequence: 1,
      toSequence: 30,
      profileId: 'ecs-evidence-baseline',
    };
    const plan = await planBundle({
      source: memorySource(
        events.map((event) => ({ text: canonicalJson(event), event })),
        chain.artifacts,
      ),
      scope,
      producer,
      exportId: 'x',
      createdAt,
      repeatedPointers: repeatedPointers(events),
    });
    const changed = events.map((event) => {
      if (event.sequence !== 30) return event;
      const { event_hash: _hash, ...rest } = { ...event, actor: 'mallory' };
      return { ...rest, event_hash: contentDigest(rest) } as EvidenceEvent;
    });
    const source = memorySource(
      changed.map((event) => ({ text: canonicalJson(event), event })),
      chain.artifacts,
    );
    await mkdir(path.join(temp.path, 'changed'), { recursive: true });
    await expect(toFile(bundleTarGzStream(plan, source), path.join(temp.path, 'changed', 'b.tar.gz'))).rejects.toThrow(
      /differs from its planned digest|longer than planned/,
    );
  });
});
