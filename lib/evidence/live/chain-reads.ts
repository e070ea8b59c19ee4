import type { Database } from '../../db/database';
import { toStoredEvent } from '../stored-event';
import type { StoredEvent } from '../stored-event';

/**
 * Committed events of one chain after `afterSequence`, in order, at most `limit`. Appends
 * to a chain commit in sequence order (the chain-head lock), so what one statement sees is
 * always a gap-free prefix of the chain.
 */
export async function findChainEventsAfter({
  db,
  chainId,
  afterSequence,
  limit,
}: {
  db: Database;
  chainId: string;
  afterSequence: number;
  limit: number;
}): Promise<StoredEvent[]> {
  const rows = await db.prisma.evidenceEvent.findMany({
    where: { chainId, sequence: { gt: afterSequence } },
    orderBy: { sequence: 'asc' },
    take: limit,
    select: { canonical: true },
  });
  return rows.map(toStoredEvent);
}

/** The sequence of each chain's newest committed event (all chains, or those named); absent chains have none. */
export async function findChainHeads({ db, chainIds }: { db: Database; chainIds?: readonly string[] }): Promise<Map<string, number>> {
  const rows = await db.prisma.chainHead.findMany({
    where: chainIds ? { chainId: { in: [...chainIds] } } : {},
    select: { chainId: true, sequence: true },
  });
  return new Map(rows.map((row) => [row.chainId, row.sequence]));
}
