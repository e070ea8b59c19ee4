import type { Database } from '../../../lib/db/database';
import { chainReads, yieldTurn } from './chain-reads';

/**
 * Event hashes read per round trip, folded into the tree before the next turn of the event
 * loop: a page of 1,000 takes about 30 ms on the embedded database (5,000 about 50).
 */
const BATCH = 1000;

/**
 * The `event_hash` of every event of a chain from sequence 1 to `upTo`, in order, read in
 * pages through the chain-read slots (memory stays flat, the pool stays shared), with a turn
 * of the event loop after each page (see chain-reads.ts). Throws when a sequence is
 * missing (a tree over a chain with a gap would prove nothing) or `signal` is aborted.
 */
export async function* chainEventHashes({
  db,
  chainId,
  upTo,
  signal,
}: {
  db: Database;
  chainId: string;
  upTo: number;
  signal?: AbortSignal;
}): AsyncGenerator<string> {
  const reads = chainReads(db);
  let next = 1;
  while (next <= upTo) {
    const from = next;
    const rows = await reads.page(() =>
      db.prisma.evidenceEvent.findMany({
        where: { chainId, sequence: { gte: from, lte: upTo } },
        orderBy: { sequence: 'asc' },
        take: BATCH,
        select: { sequence: true, eventHash: true },
      }),
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.sequence !== next) throw new Error(`${chainId}: sequence ${next} is missing`);
      yield row.eventHash;
      next += 1;
    }
    await yieldTurn(signal);
  }
  if (next <= upTo) throw new Error(`${chainId}: sequence ${next} is missing`);
}

/** Passes the hashes through, remembering those at the given 1-based positions (sequences). */
export async function* remembering(
  hashes: AsyncIterable<string>,
  at: ReadonlySet<number>,
  seen: Map<number, string>,
): AsyncGenerator<string> {
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
