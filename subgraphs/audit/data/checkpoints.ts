import type { Database } from '../../../lib/db/database';
import { canonicalJson } from '../../../lib/evidence/canonical-json';
import { chainIdFor } from '../../../lib/evidence/evidence-event';
import type { SigningKeys } from '../../../lib/keys/signing-keys';
import { CHECKPOINT_TYP } from '../../../lib/proofs/proof-document';
import { storedSubtrees } from '../../../lib/evidence/merkle-state/stored-subtrees';
import { EMPTY_TREE_ROOT, subtreeRoot } from '../../../lib/proofs/subtree-proofs';
import { chainReads } from './chain-reads';

export const CHECKPOINT_TYPE = 'ecs.chain-checkpoint';

export interface ChainCheckpoint {
  chainId: string;
  tenantId: string;
  /** The tree size: events 1..sequence. */
  sequence: number;
  headHash: string | null;
  /** RFC 9162 root over the event hashes 1..sequence (`sha256:<hex>`). */
  merkleRoot: string;
  issuedAt: string;
  kid: string;
  jws: string;
}

/**
 * Signs the statement "the first `sequence` events of this chain end with `headHash` and
 * have the Merkle root `merkleRoot`" (`typ: ecs-checkpoint+jws`, canonical JSON payload).
 * The statement stays true forever (events are append-only), so checkpoints of earlier
 * sizes are as good as the head's.
 */
export async function signCheckpoint({
  keys,
  tenantId,
  sequence,
  headHash,
  merkleRoot,
}: {
  keys: SigningKeys;
  tenantId: string;
  sequence: number;
  headHash: string | null;
  merkleRoot: string;
}): Promise<ChainCheckpoint> {
  const chainId = chainIdFor(tenantId);
  const issuedAt = new Date().toISOString();
  const statement = {
    checkpoint_type: CHECKPOINT_TYPE,
    chain_id: chainId,
    tenant_id: tenantId,
    sequence,
    head_hash: headHash,
    merkle_root: merkleRoot,
    issued_at: issuedAt,
  };
  const jws = await keys.sign(Buffer.from(canonicalJson(statement), 'utf8'), CHECKPOINT_TYP);
  return { chainId, tenantId, sequence, headHash, merkleRoot, issuedAt, kid: keys.kid, jws };
}

/**
 * The chain's latest event, signed as a checkpoint with the Merkle root of the whole chain.
 * Cost: O(log n) stored Merkle nodes and the event hashes of the last, incomplete block
 * (lib/evidence/merkle-state/), once the stored state has caught up.
 */
export async function signChainHead({
  db,
  keys,
  tenantId,
  signal,
}: {
  db: Database;
  keys: SigningKeys;
  tenantId: string;
  /** Stops the read when the caller has gone away. */
  signal?: AbortSignal;
}): Promise<ChainCheckpoint> {
  const chainId = chainIdFor(tenantId);
  const head = await db.prisma.evidenceEvent.findFirst({
    where: { chainId },
    orderBy: { sequence: 'desc' },
    select: { sequence: true, eventHash: true },
  });
  if (!head) return signCheckpoint({ keys, tenantId, sequence: 0, headHash: null, merkleRoot: EMPTY_TREE_ROOT });
  const source = await storedSubtrees({ db, chainId, size: head.sequence, slots: chainReads(db), signal });
  const { root, headHash } = await subtreeRoot(source, head.sequence);
  if (headHash !== head.eventHash) throw new Error(`${chainId}: the head changed while it was read`);
  return signCheckpoint({ keys, tenantId, sequence: head.sequence, headHash, merkleRoot: root });
}
