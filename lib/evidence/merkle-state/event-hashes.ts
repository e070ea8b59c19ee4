import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../../db/database';
import { EcsError, ErrorCode } from '../../errors';

/** Event hashes read per round trip (a page of 1,000 takes about 30 ms on the embedded database). */
const PAGE = 1000;

/** Runs a page read when the caller allows (the audit plane's chain-read slots). */
export interface PageSlots {
  page<T>(read: () => Promise<T>): Promise<T>;
}

const PAGE_SQL = `SELECT sequence, event_hash FROM audit_evidence_events
  WHERE chain_id = $1 AND sequence >= $2 AND sequence <= $3 ORDER BY sequence LIMIT $4`;

const immediately: PageSlots = { page: (read) => read() };

/**
 * The `event_hash` of leaves `[from, to)` of a chain (sequences `from + 1 .. to`), in order,
 * read in pages with a turn of the event loop between them. Throws when a sequence is
 * missing (a tree over a chain with a gap would prove nothing) or `signal` is aborted.
 */
export async function readEventHashes({
  db,
  chainId,
  from,
  to,
  slots = immediately,
  signal,
}: {
  db: Database;
  chainId: string;
  from: number;
  to: number;
  slots?: PageSlots;
  signal?: AbortSignal;
}): Promise<string[]> {
  const hashes: string[] = [];
  let next = from + 1;
  while (next <= to) {
    if (hashes.length > 0) {
      await nextTurn();
      if (signal?.aborted) throw new EcsError(ErrorCode.DependencyUnavailable, 'the request was abandoned before the chain was read');
    }
    const first = next;
    // Straight on the driver: Prisma's per-row work was most of a fold's CPU.
    const rows = await slots.page(() => db.query<{ sequence: number; event_hash: string }>(PAGE_SQL, [chainId, first, to, PAGE]));
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.sequence !== next) break;
      hashes.push(row.event_hash);
      next += 1;
    }
    if (rows[rows.length - 1]!.sequence !== next - 1) break;
  }
  if (next <= to) throw new Error(`${chainId}: sequence ${next} is missing`);
  return hashes;
}
