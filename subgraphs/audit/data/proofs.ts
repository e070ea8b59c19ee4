import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import { chainIdFor } from '../../../lib/evidence/evidence-event';
import type { SigningKeys } from '../../../lib/keys/signing-keys';
import { storedSubtrees } from '../../../lib/evidence/merkle-state/stored-subtrees';
import { subtreeConsistencyDocument, subtreeInclusionDocument } from '../../../lib/proofs/subtree-proofs';
import { headSequence } from './chain-hashes';
import { chainReads } from './chain-reads';
import { signCheckpoint } from './checkpoints';
import type { ChainCheckpoint } from './checkpoints';

/** A proof document as `ecs verify-proof` reads it, with the checkpoints it carries. */
export interface MerkleProof {
  document: JsonObject;
  treeSize: number;
  root: string;
  checkpoint: ChainCheckpoint;
  firstCheckpoint: ChainCheckpoint | null;
}

/** `treeSize` (default: the head) checked against the chain; 400 when beyond the head. */
async function treeSizeOf(db: Database, chainId: string, requested: number | undefined, field: string): Promise<number> {
  const head = await headSequence({ db, chainId });
  if (head === 0) throw new EcsError(ErrorCode.NotFound, `${chainId} has no events`);
  const size = requested ?? head;
  if (size > head) {
    throw new EcsError(ErrorCode.ValidationFailed, `${field} ${size} is beyond the chain head ${head}`, { field });
  }
  return size;
}

/**
 * Inclusion of the event at `sequence` in the tree of the first `treeSize` events, with a
 * checkpoint of that tree signed now. Cost: O(log n) stored Merkle nodes and at most two
 * blocks of event hashes (lib/evidence/merkle-state/), once the stored state has caught up.
 */
export async function proveInclusion({
  db,
  keys,
  tenantId,
  sequence,
  treeSize,
  signal,
}: {
  db: Database;
  keys: SigningKeys;
  tenantId: string;
  sequence: number;
  treeSize?: number;
  /** Stops the read when the caller has gone away. */
  signal?: AbortSignal;
}): Promise<MerkleProof> {
  const chainId = chainIdFor(tenantId);
  const size = await treeSizeOf(db, chainId, treeSize, 'treeSize');
  if (sequence > size) {
    throw new EcsError(ErrorCode.ValidationFailed, `sequence ${sequence} is beyond the tree size ${size}`, { field: 'sequence' });
  }
  const source = await storedSubtrees({ db, chainId, size, slots: chainReads(db), signal });
  const { document, headHash } = await subtreeInclusionDocument(source, { index: sequence - 1, size, chainId });
  const checkpoint = await signCheckpoint({ keys, tenantId, sequence: size, headHash, merkleRoot: document.root });
  return {
    document: { ...document, checkpoint: checkpoint.jws } as unknown as JsonObject,
    treeSize: size,
    root: document.root,
    checkpoint,
    firstCheckpoint: null,
  };
}

/**
 * The tree of the first `fromSize` events is a prefix of the tree of the first `toSize`
 * (default: the head), with checkpoints of both signed now. Cost: as an inclusion proof.
 */
export async function proveConsistency({
  db,
  keys,
  tenantId,
  fromSize,
  toSize,
  signal,
}: {
  db: Database;
  keys: SigningKeys;
  tenantId: string;
  fromSize: number;
  toSize?: number;
  /** Stops the read when the caller has gone away. */
  signal?: AbortSignal;
}): Promise<MerkleProof> {
  const chainId = chainIdFor(tenantId);
  const size = await treeSizeOf(db, chainId, toSize, 'toSize');
  if (fromSize > size) {
    throw new EcsError(ErrorCode.ValidationFailed, `fromSize ${fromSize} is beyond the tree size ${size}`, { field: 'fromSize' });
  }
  const source = await storedSubtrees({ db, chainId, size, slots: chainReads(db), signal });
  const { document, firstHeadHash, headHash } = await subtreeConsistencyDocument(source, { firstSize: fromSize, size, chainId });
  const checkpoint = await signCheckpoint({ keys, tenantId, sequence: size, headHash, merkleRoot: document.root });
  const firstCheckpoint = await signCheckpoint({
    keys,
    tenantId,
    sequence: fromSize,
    headHash: firstHeadHash,
    merkleRoot: document.first_root,
  });
  return {
    document: { ...document, checkpoint: checkpoint.jws, first_checkpoint: firstCheckpoint.jws } as unknown as JsonObject,
    treeSize: size,
    root: document.root,
    checkpoint,
    firstCheckpoint,
  };
}

/** The sequence of an event of the tenant's chain; 404 for an event of another chain. */
export async function sequenceOfEvent({ db, tenantId, eventId }: { db: Database; tenantId: string; eventId: string }): Promise<number> {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const row = UUID.test(eventId)
    ? await db.prisma.evidenceEvent.findFirst({ where: { id: eventId, chainId: chainIdFor(tenantId) }, select: { sequence: true } })
    : null;
  if (!row) throw new EcsError(ErrorCode.NotFound, `event ${eventId} is not in the chain of ${tenantId}`, { field: 'eventId' });
  return row.sequence;
}
