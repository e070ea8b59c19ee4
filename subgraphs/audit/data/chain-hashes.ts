import type { Database } from '../../../lib/db/database';

/** Event hashes read per round trip. */
const BATCH = 5000;

/**
 * The `event_hash` of every event of a chain from sequence 1 to `upTo`, in order, read in
 * batches (memory stays flat). Throws when a sequence is missing: a tree over a chain with
 * a gap would prove nothing.
 */
export async function* chainEventHashes({ db, chainId, upTo }: { db: Database; chainId: string; upTo: number }): AsyncGenerator<string> {
  let next = 1;
  while (next <= upTo) {
    const rows = await db.prisma.evidenceEvent.findMany({
      where: { chainId, sequence: { gte: next, lte: upTo } },
      orderBy: { sequence: 'asc' },
      take: BATCH,
      select: { sequence: true, eventHash: true },
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.sequence !== next) throw new Error(`${chainId}: sequence ${next} is missing`);
      yield row.eventHash;
      next += 1;
    }
  }
  if (next <= upTo) throw new Error(`${chainId}: sequence ${next} is missing`);
}

/** Passes the hashes through, remembering those at the given 1-based positions (sequences). */
export async function* remembering(hashes: AsyncIterable<string>, at: ReadonlySet<number>, seen: Map<number, string>): AsyncGenerator<string> {
  let sequence = 0;
  for await (const hash of hashes) {
    sequence += 1;
    if (at.has(sequence)) seen.set(sequence, hash);
    yield hash;
  }
}

/** The chain's head sequence (0 for an empty chain). */
export async function headSequence({ db, chainId }: { db: Database; chainId: string }): Promise<number> {
  const head = await db.prisma.evidenceEvent.aggregate({ where: { chainId }, _max: { sequence: true } });
  return head._max.sequence ?? 0;
}
