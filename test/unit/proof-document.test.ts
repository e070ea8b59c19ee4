import { canonicalJson } from '../../lib/evidence/canonical-json';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import type { SigningKeys } from '../../lib/keys/signing-keys';
import { CHECKPOINT_TYP, buildConsistencyDocument, buildInclusionDocument, verifyProofDocument } from '../../lib/proofs/proof-document';
import { testSigner } from '../support/bundles';
import { syntheticChain } from '../support/synthetic-chain';
import { makeTempDir } from '../../testkit/temp-dir';

const hashes = [...syntheticChain({ count: 13 }).events()].map((event) => event.event_hash);
const chainId = 'ecs:tenant:tenant-synthetic';

/** A checkpoint as `chainHead` signs it, plus the Merkle root it should carry. */
function checkpoint(keys: SigningKeys, sequence: number, merkleRoot?: string): Promise<string> {
  const statement: JsonObject = {
    checkpoint_type: 'ecs.chain-checkpoint',
    chain_id: chainId,
    tenant_id: 'tenant-synthetic',
    sequence,
    head_hash: hashes[sequence - 1]!,
    issued_at: '2026-01-01T00:00:00.000Z',
    ...(merkleRoot ? { merkle_root: merkleRoot } : {}),
  };
  return keys.sign(Buffer.from(canonicalJson(statement)), CHECKPOINT_TYP);
}

const outcome = (checks: Array<{ name: string; ok: boolean }>): Record<string, boolean> =>
  Object.fromEntries(checks.map((check) => [check.name, check.ok]));

describe('proof documents', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let keys: SigningKeys;
  beforeAll(async () => {
    temp = await makeTempDir('ecs-proof-');
    keys = (await testSigner(temp.path)) as SigningKeys;
  });
  afterAll(() => temp.remove());

  it('every inclusion and consistency document of a 13-event chain verifies; tampered ones do not', async () => {
    for (let index = 0; index < hashes.length; index += 1) {
      const document = buildInclusionDocument(hashes, index, chainId);
      expect(outcome(await verifyProofDocument(document))).toEqual({ proof: true, checkpoint: true });
      const wrongLeaf = { ...document, event_hash: hashes[(index + 1) % hashes.length] };
      expect(outcome(await verifyProofDocument(wrongLeaf)).proof).toBe(false);
      expect(outcome(await verifyProofDocument({ ...document, leaf_index: index + 1 })).proof).toBe(false);
    }
    for (let first = 1; first <= hashes.length; first += 1) {
      const document = buildConsistencyDocument(hashes, first, chainId);
      expect(outcome(await verifyProofDocument(document)).proof).toBe(true);
      const otherRoot = document.first_root.slice(0, -1) + (document.first_root.endsWith('0') ? '1' : '0');
      expect(outcome(await verifyProofDocument({ ...document, first_root: otherRoot })).proof).toBe(false);
    }
  });

  it('rejects malformed documents without throwing', async () => {
    const good = buildInclusionDocument(hashes, 3);
    for (const bad of [
      null,
      [],
      'x',
      { ...good, proof_type: 'other' },
      { ...good, hash_method: 'sha1' },
      { ...good, inclusion_path: 'nope' },
      { ...good, root: 'sha256:zz' },
      { ...good, tree_size: -1 },
    ]) {
      expect((await verifyProofDocument(bad)).some((check) => !check.ok)).toBe(true);
    }
  });

  it('a checkpoint binds size and root when it carries merkle_root and is signed by a trusted key', async () => {
    const document = buildInclusionDocument(hashes, 4, chainId);
    const signed = { ...document, checkpoint: await checkpoint(keys, hashes.length, document.root) };
    expect(outcome(await verifyProofDocument(signed, { jwks: keys.jwks }))).toEqual({ proof: true, checkpoint: true });
    expect(outcome(await verifyProofDocument(signed))).toEqual({ proof: true, checkpoint: false });
    const other = (await testSigner(temp.path, 'other.json')) as SigningKeys;
    expect(outcome(await verifyProofDocument(signed, { jwks: other.jwks })).checkpoint).toBe(false);

    const wrongSize = { ...document, checkpoint: await checkpoint(keys, hashes.length - 1, document.root) };
    expect(outcome(await verifyProofDocument(wrongSize, { jwks: keys.jwks })).checkpoint).toBe(false);
    const headOnly = { ...document, checkpoint: await checkpoint(keys, hashes.length) };
    const [, check] = await verifyProofDocument(headOnly, { jwks: keys.jwks });
    expect(check).toMatchObject({ ok: false, detail: expect.stringContaining('no merkle_root') });
  });

  it('a consistency document can carry checkpoints of both trees', async () => {
    const document = buildConsistencyDocument(hashes, 5, chainId);
    const signed = {
      ...document,
      checkpoint: await checkpoint(keys, hashes.length, document.root),
      first_checkpoint: await checkpoint(keys, 5, document.first_root),
    };
    expect(outcome(await verifyProofDocument(signed, { jwks: keys.jwks }))).toEqual({
      proof: true,
      checkpoint: true,
      'first-checkpoint': true,
    });
    const swapped = { ...signed, first_checkpoint: signed.checkpoint };
    expect(outcome(await verifyProofDocument(swapped, { jwks: keys.jwks }))['first-checkpoint']).toBe(false);
  });
});
