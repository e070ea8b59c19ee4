/**
 * Proof documents: the JSON form of an RFC 9162 inclusion or consistency proof over a
 * chain's event hashes (leaf i = the 32-byte digest of the event at sequence i + 1), with
 * an optional signed checkpoint (`typ: ecs-checkpoint+jws`, as the audit plane's
 * `chainHead` signs) that binds the tree size and root. `buildInclusionDocument` and
 * `buildConsistencyDocument` make them; `verifyProofDocument` checks one offline and
 * returns named checks like the bundle verifier (docs/verify.md lists the format).
 */
import type { JSONWebKeySet } from 'jose';
import type { BundleCheck } from '../bundle/findings';
import { JwsError, verifyJws } from '../keys/verify-jws';
import {
  consistencyProof,
  eventHashLeaf,
  fromHex,
  inclusionProof,
  leafHash,
  merkleRoot,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

export const INCLUSION_PROOF_TYPE = 'ecs.merkle-inclusion-proof';
export const CONSISTENCY_PROOF_TYPE = 'ecs.merkle-consistency-proof';
export const PROOF_HASH_METHOD = 'rfc9162_sha256(event_hash digests)';
export const CHECKPOINT_TYP = 'ecs-checkpoint+jws';

interface ProofCommon {
  hash_method: string;
  chain_id?: string;
  /** Size of the (newer) tree: the events with sequence 1..tree_size. */
  tree_size: number;
  /** `sha256:<hex>` root of that tree. */
  root: string;
  /** Compact JWS checkpoint whose payload carries `sequence` = tree_size and `merkle_root` = root. */
  checkpoint?: string;
}

export interface InclusionProofDocument extends ProofCommon {
  proof_type: typeof INCLUSION_PROOF_TYPE;
  leaf_index: number;
  event_hash: string;
  inclusion_path: string[];
}

export interface ConsistencyProofDocument extends ProofCommon {
  proof_type: typeof CONSISTENCY_PROOF_TYPE;
  first_size: number;
  first_root: string;
  consistency_path: string[];
  /** Checkpoint of the older tree (first_size, first_root). */
  first_checkpoint?: string;
}

export type ProofDocument = InclusionProofDocument | ConsistencyProofDocument;

const digest = (hash: Uint8Array): string => `sha256:${toHex(hash)}`;

export function buildInclusionDocument(eventHashes: readonly string[], index: number, chainId?: string): InclusionProofDocument {
  const leaves = eventHashes.map(eventHashLeaf);
  return {
    proof_type: INCLUSION_PROOF_TYPE,
    hash_method: PROOF_HASH_METHOD,
    ...(chainId === undefined ? {} : { chain_id: chainId }),
    tree_size: leaves.length,
    leaf_index: index,
    event_hash: eventHashes[index]!,
    inclusion_path: inclusionProof(index, leaves).map(digest),
    root: digest(merkleRoot(leaves)),
  };
}

export function buildConsistencyDocument(eventHashes: readonly string[], firstSize: number, chainId?: string): ConsistencyProofDocument {
  const leaves = eventHashes.map(eventHashLeaf);
  return {
    proof_type: CONSISTENCY_PROOF_TYPE,
    hash_method: PROOF_HASH_METHOD,
    ...(chainId === undefined ? {} : { chain_id: chainId }),
    first_size: firstSize,
    first_root: digest(merkleRoot(leaves.slice(0, firstSize))),
    tree_size: leaves.length,
    root: digest(merkleRoot(leaves)),
    consistency_path: consistencyProof(firstSize, leaves).map(digest),
  };
}

const isSize = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const hashes = (value: unknown): Uint8Array[] => {
  if (!Array.isArray(value) || value.length > 64) throw new TypeError('path must be a list of at most 64 hashes');
  return value.map((item) => fromHex(String(item)));
};

function checkProof(document: Record<string, unknown>): BundleCheck {
  const name = 'proof';
  try {
    if (document.hash_method !== PROOF_HASH_METHOD) throw new TypeError(`hash_method must be ${PROOF_HASH_METHOD}`);
    if (!isSize(document.tree_size)) throw new TypeError('tree_size must be a non-negative integer');
    const root = fromHex(String(document.root));
    if (document.proof_type === INCLUSION_PROOF_TYPE) {
      if (!isSize(document.leaf_index)) throw new TypeError('leaf_index must be a non-negative integer');
      const ok = verifyInclusion({
        index: document.leaf_index,
        treeSize: document.tree_size,
        leafHash: leafHash(eventHashLeaf(String(document.event_hash))),
        proof: hashes(document.inclusion_path),
        root,
      });
      const what = `event ${String(document.event_hash)} at index ${document.leaf_index} of a tree of ${document.tree_size}`;
      return ok
        ? { name, ok, detail: `inclusion of ${what} verified` }
        : { name, ok, detail: `inclusion proof of ${what} does not verify` };
    }
    if (document.proof_type === CONSISTENCY_PROOF_TYPE) {
      if (!isSize(document.first_size)) throw new TypeError('first_size must be a non-negative integer');
      const ok = verifyConsistency({
        firstSize: document.first_size,
        secondSize: document.tree_size,
        firstRoot: fromHex(String(document.first_root)),
        secondRoot: root,
        proof: hashes(document.consistency_path),
      });
      const what = `tree ${document.first_size} -> ${document.tree_size}`;
      return ok
        ? { name, ok, detail: `append-only consistency of ${what} verified` }
        : { name, ok, detail: `consistency proof of ${what} does not verify` };
    }
    throw new TypeError(`proof_type must be ${INCLUSION_PROOF_TYPE} or ${CONSISTENCY_PROOF_TYPE}`);
  } catch (error) {
    return { name, ok: false, detail: `malformed proof: ${(error as Error).message}` };
  }
}

async function checkCheckpoint(
  name: string,
  jws: unknown,
  expected: { size: unknown; root: unknown; chainId: unknown },
  jwks: JSONWebKeySet | undefined,
): Promise<BundleCheck> {
  if (typeof jws !== 'string') return { name, ok: false, detail: 'checkpoint must be a compact JWS string' };
  if (!jwks) return { name, ok: false, detail: "a checkpoint needs the signer's public keys: pass --jwks <file>" };
  try {
    const { payload, kid } = await verifyJws(jws, { jwks, typ: CHECKPOINT_TYP });
    const statement = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
    const problems: string[] = [];
    if (statement.checkpoint_type !== 'ecs.chain-checkpoint') problems.push('checkpoint_type is not ecs.chain-checkpoint');
    if (expected.chainId !== undefined && statement.chain_id !== expected.chainId)
      problems.push(`chain_id is ${String(statement.chain_id)}`);
    if (statement.sequence !== expected.size)
      problems.push(`sequence ${String(statement.sequence)} is not the tree size ${String(expected.size)}`);
    if (statement.merkle_root === undefined) problems.push('it carries no merkle_root, so it does not authenticate the root');
    else if (statement.merkle_root !== expected.root) problems.push("its merkle_root differs from the proof's root");
    return problems.length
      ? { name, ok: false, detail: `checkpoint signed by ${kid}, but ${problems.join('; ')}` }
      : { name, ok: true, detail: `signed by ${kid}: tree size ${String(expected.size)} and root authenticated` };
  } catch (error) {
    return { name, ok: false, detail: error instanceof JwsError ? error.message : `unreadable checkpoint: ${(error as Error).message}` };
  }
}

/** Verifies a proof document; never throws for a bad document. */
export async function verifyProofDocument(document: unknown, { jwks }: { jwks?: JSONWebKeySet } = {}): Promise<BundleCheck[]> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return [{ name: 'proof', ok: false, detail: 'the proof document is not a JSON object' }];
  }
  const proof = document as Record<string, unknown>;
  const checks = [checkProof(proof)];
  if (proof.checkpoint === undefined) {
    checks.push({ name: 'checkpoint', ok: true, warning: true, detail: 'no checkpoint: the root is not authenticated by a signature' });
  } else {
    checks.push(
      await checkCheckpoint('checkpoint', proof.checkpoint, { size: proof.tree_size, root: proof.root, chainId: proof.chain_id }, jwks),
    );
  }
  if (proof.first_checkpoint !== undefined) {
    const expected = { size: proof.first_size, root: proof.first_root, chainId: proof.chain_id };
    checks.push(await checkCheckpoint('first-checkpoint', proof.first_checkpoint, expected, jwks));
  }
  return checks;
}
