import { canonicalJson } from '../../lib/evidence/canonical-json';
import type { SigningKeys } from '../../lib/keys/signing-keys';
import { CHECKPOINT_TYP, buildConsistencyDocument, buildInclusionDocument, verifyProofDocument } from '../../lib/proofs/proof-document';
import { testSigner } from '../support/bundles';
import { syntheticChain } from '../support/synthetic-chain';
import { makeTempDir } from '../../testkit/temp-dir';

/** Malicious provers: what a verifier must refuse (security checklist 51, 55, 56, 58). */
const hashes = [...syntheticChain({ count: 13 }).events()].map((event) => event.event_hash);
const forked = [...syntheticChain({ count: 13, tenantId: 'tenant-fork' }).events()].map((event) => event.event_hash);
const chainId = 'ecs:tenant:tenant-synthetic';
const ok = (checks: Array<{ name: string; ok: boolean }>, name: string) => checks.find((check) => check.name === name)?.ok;

describe('proof verifier against a malicious prover', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let keys: SigningKeys;
  const checkpoint = (sequence: number, root: string, signer = keys) =>
    signer.sign(
      Buffer.from(
        canonicalJson({
          checkpoint_type: 'ecs.chain-checkpoint',
          chain_id: chainId,
          tenant_id: 'tenant-synthetic',
          sequence,
          head_hash: hashes[sequence - 1]!,
          issued_at: '2026-01-01T00:00:00.000Z',
          merkle_root: root,
        }),
      ),
      CHECKPOINT_TYP,
    );

  beforeAll(async () => {
    temp = await makeTempDir('ecs-proof-abuse-');
    keys = (await testSigner(temp.path)) as SigningKeys;
  });
  afterAll(() => temp.remove());

  it('checklist 51: two signed checkpoints of the same size with different roots are flagged as equivocation', async () => {
    const honest = buildConsistencyDocument(hashes, 13, chainId);
    const other = buildConsistencyDocument(forked, 13, chainId);
    const equivocating = {
      ...honest,
      first_root: other.root,
      first_checkpoint: await checkpoint(13, other.root),
      checkpoint: await checkpoint(13, honest.root),
    };
    expect(ok(await verifyProofDocument(equivocating, { jwks: keys.jwks }), 'proof')).toBe(false);
    // A smaller tree whose root is not a prefix of the larger one.
    const notPrefix = {
      ...buildConsistencyDocument(hashes, 5, chainId),
      first_root: buildConsistencyDocument(forked, 5, chainId).first_root,
    };
    expect(ok(await verifyProofDocument(notPrefix), 'proof')).toBe(false);
  });

  it('checklist 55: a checkpoint signed by a key outside the trusted set is rejected', async () => {
    const document = buildInclusionDocument(hashes, 2, chainId);
    const stranger = (await testSigner(temp.path, 'stranger.json')) as SigningKeys;
    const signed = { ...document, checkpoint: await checkpoint(13, document.root, stranger) };
    expect(ok(await verifyProofDocument(signed, { jwks: keys.jwks }), 'checkpoint')).toBe(false);
    expect(
      ok(await verifyProofDocument({ ...document, checkpoint: await checkpoint(13, document.root) }, { jwks: keys.jwks }), 'checkpoint'),
    ).toBe(true);
  });

  it('checklist 56: wrong path length, reordered path, wrong sizes and index ≥ size are rejected', async () => {
    // The tree size is bound by the signed checkpoint: RFC 9162 alone accepts some other
    // sizes whose path has the same shape, so a verifier must hold a trusted checkpoint.
    const document = { ...buildInclusionDocument(hashes, 6, chainId), checkpoint: '' };
    document.checkpoint = await checkpoint(13, document.root);
    const path = document.inclusion_path;
    for (const bad of [
      { ...document, inclusion_path: path.slice(1) },
      { ...document, inclusion_path: [...path, path[0]!] },
      { ...document, inclusion_path: [...path].reverse() },
      { ...document, tree_size: 12 },
      { ...document, tree_size: 14 },
      { ...document, leaf_index: 13 },
      { ...document, leaf_index: 99 },
    ]) {
      const checks = await verifyProofDocument(bad, { jwks: keys.jwks });
      expect([bad.tree_size, bad.leaf_index, bad.inclusion_path.length, checks.every((check) => check.ok)]).toEqual([
        bad.tree_size,
        bad.leaf_index,
        bad.inclusion_path.length,
        false,
      ]);
    }
    expect((await verifyProofDocument(document, { jwks: keys.jwks })).every((check) => check.ok)).toBe(true);
    const consistency = buildConsistencyDocument(hashes, 5, chainId);
    for (const bad of [
      { ...consistency, first_size: 14 },
      { ...consistency, first_size: 0 },
      { ...consistency, consistency_path: [...consistency.consistency_path].reverse() },
    ]) {
      expect(ok(await verifyProofDocument(bad), 'proof')).toBe(false);
    }
  });

  it('checklist 58: a proof with a million hashes is refused quickly, without throwing', async () => {
    const document = buildInclusionDocument(hashes, 6, chainId);
    const huge = { ...document, inclusion_path: Array.from({ length: 1_000_000 }, () => document.inclusion_path[0]!) };
    const started = performance.now();
    const checks = await verifyProofDocument(huge);
    expect(ok(checks, 'proof')).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
