/**
 * The stored Merkle state of evidence chains (`audit_merkle_nodes`), so that a chain head, a
 * checkpoint or a proof costs O(log n) reads instead of every event hash of the chain.
 *
 * What is stored: the root of every complete, aligned subtree of level >= MERKLE_BASE_LEVEL
 * (lib/proofs/aligned-subtrees.ts); its right edge (the frontier) is what the next block is
 * folded onto, and any range a proof needs is a few of these plus leaves of at most two blocks
 * (lib/proofs/subtree-proofs.ts).
 *
 * When it is written: after commit, never in the append. The ledger's append is one statement
 * in the caller's transaction and stays so; once committed events complete a block, the
 * appending process folds it (fold-after-commit.ts), and any reader that finds the state behind
 * the size it needs folds the missing blocks first (stored-subtrees.ts), so a lagging or
 * stopped folder costs a reader only the events not yet folded, once. Each step stores whole
 * blocks in one transaction under the chain's advisory lock and only onto the state it started
 * from, so the stored blocks are always a prefix of the chain and writers never disagree.
 */
import type { Prisma } from '../../../prisma/generated/client';
import type { Database } from '../../db/database';
import type { AlignedNode } from '../../proofs/aligned-subtrees';
import type { Hash } from '../../proofs/merkle';
import type { NodeKey } from '../../proofs/subtree-proofs';

/**
 * The lowest stored level: blocks of 256 events. A chain of n events stores about n / 128
 * nodes, and a proof reads at most two blocks of event hashes besides its O(log n) nodes.
 */
export const MERKLE_BASE_LEVEL = 8;
export const MERKLE_BLOCK = 2 ** MERKLE_BASE_LEVEL;

/** First key of the advisory lock a chain's Merkle state is written under (the second is the chain's). */
const MERKLE_LOCK_SPACE = 0x4d4b4c;

/**
 * Leaves folded into the chain's stored nodes: blocks are stored in order, each with the
 * larger subtrees it completes, in one transaction, so the last block stored tells.
 */
export async function foldedLeaves({
  client,
  chainId,
}: {
  client: Pick<Prisma.TransactionClient, 'merkleNode'>;
  chainId: string;
}): Promise<number> {
  const last = await client.merkleNode.findFirst({
    where: { chainId, level: MERKLE_BASE_LEVEL },
    orderBy: { index: 'desc' },
    select: { index: true },
  });
  return last ? (last.index + 1) * MERKLE_BLOCK : 0;
}

/** Leaves folded, as `foldedLeaves` reads them, in one statement on the driver. */
export async function foldedLeavesOf(db: Database, chainId: string): Promise<number> {
  const [row] = await db.query<{ idx: number | null }>(
    'SELECT max(idx) AS idx FROM audit_merkle_nodes WHERE chain_id = $1 AND level = $2',
    [chainId, MERKLE_BASE_LEVEL],
  );
  return row?.idx == null ? 0 : (row.idx + 1) * MERKLE_BLOCK;
}

/** The stored roots of `keys`, in order; throws when one is missing. One statement on the driver. */
export async function readMerkleNodes({ db, chainId, keys }: { db: Database; chainId: string; keys: readonly NodeKey[] }): Promise<Hash[]> {
  if (keys.length === 0) return [];
  const rows = await db.query<{ level: number; idx: number; hash: Uint8Array }>(
    `SELECT level, idx, hash FROM audit_merkle_nodes
      WHERE chain_id = $1 AND (level, idx) IN (SELECT l, i FROM unnest($2::smallint[], $3::int[]) AS k(l, i))`,
    [chainId, keys.map((key) => key.level), keys.map((key) => key.index)],
  );
  const byKey = new Map(rows.map((row) => [`${row.level}:${row.idx}`, row.hash]));
  return keys.map(({ level, index }) => {
    const hash = byKey.get(`${level}:${index}`);
    if (!hash) throw new Error(`${chainId}: Merkle node ${level}:${index} is not stored`);
    return Uint8Array.from(hash);
  });
}

/**
 * Takes the advisory lock the chain's Merkle state is written under, until the end of the
 * transaction `tx`: whoever changes the stored nodes of a chain holds it.
 */
export async function lockMerkleState(tx: Pick<Prisma.TransactionClient, '$queryRaw'>, chainId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(${MERKLE_LOCK_SPACE}::int, hashtext(${chainId}))) AS lock`;
}

/**
 * Stores the nodes completed by folding leaves `[from, to)`, unless another writer got there
 * first: under the chain's advisory lock, only when the stored state still ends at `from`.
 * Returns the folded size afterwards.
 */
export async function storeMerkleNodes({
  db,
  chainId,
  from,
  to,
  nodes,
}: {
  db: Database;
  chainId: string;
  from: number;
  to: number;
  nodes: readonly AlignedNode[];
}): Promise<number> {
  return db.prisma.$transaction(async (tx) => {
    await lockMerkleState(tx, chainId);
    const folded = await foldedLeaves({ client: tx, chainId });
    if (folded !== from) return folded;
    await tx.$executeRawUnsafe(
      `INSERT INTO audit_merkle_nodes (chain_id, level, idx, hash)
       SELECT $1, l, i, decode(h, 'hex') FROM unnest($2::smallint[], $3::int[], $4::text[]) AS t(l, i, h)
       ON CONFLICT DO NOTHING`,
      chainId,
      nodes.map((node) => node.level),
      nodes.map((node) => node.index),
      nodes.map((node) => Buffer.from(node.hash).toString('hex')),
    );
    return to;
  });
}
