import type { Database } from '../../../lib/db/database';
import { chainIdFor } from '../../../lib/evidence/evidence-event';
import { toStoredEvent } from '../../../lib/evidence/stored-event';
import type { StoredEvent } from '../../../lib/evidence/stored-event';
import type { Prisma } from '../../../prisma/generated/client';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Events by id, for `_entities` batches: one query per batch, in the order asked. */
export async function getEventsByIds({ db, ids }: { db: Database; ids: readonly string[] }): Promise<Array<StoredEvent | null>> {
  const rows = await db.prisma.evidenceEvent.findMany({
    where: { id: { in: ids.filter((id) => UUID.test(id)) } },
    select: { id: true, canonical: true },
  });
  const byId = new Map(rows.map((row) => [row.id, toStoredEvent(row)]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** The newest `last` events of each tenant's chain, one query per tenant batch. */
export async function findLatestEventsOfTenants({
  db,
  tenantIds,
  last,
}: {
  db: Database;
  tenantIds: readonly string[];
  last: number;
}): Promise<StoredEvent[][]> {
  const chainIds = tenantIds.map((tenantId) => chainIdFor(tenantId));
  const rows = await db.prisma.$queryRaw<Array<{ chain_id: string; canonical: string }>>`
    SELECT chain_id, canonical FROM (
      SELECT chain_id, canonical, sequence,
             row_number() OVER (PARTITION BY chain_id ORDER BY sequence DESC) AS rank
      FROM audit_evidence_events WHERE chain_id = ANY(${chainIds})
    ) AS ranked WHERE rank <= ${last} ORDER BY chain_id, sequence DESC`;
  return chainIds.map((chainId) => rows.filter((row) => row.chain_id === chainId).map(toStoredEvent));
}

export interface EventFilter {
  tenantId?: string;
  eventTypes?: string[];
  outcomes?: string[];
  occurredFrom?: Date;
  occurredTo?: Date;
  correlationId?: string;
  fromSequence?: number;
  toSequence?: number;
}

export interface EventPosition {
  chainId: string;
  sequence: number;
}

function whereOf(filter: EventFilter, after: EventPosition | undefined): Prisma.EvidenceEventWhereInput {
  const and: Prisma.EvidenceEventWhereInput[] = [];
  if (filter.tenantId !== undefined) and.push({ chainId: chainIdFor(filter.tenantId) });
  if (filter.eventTypes) and.push({ eventType: { in: filter.eventTypes } });
  if (filter.outcomes) and.push({ outcome: { in: filter.outcomes } });
  if (filter.occurredFrom) and.push({ occurredAt: { gte: filter.occurredFrom } });
  if (filter.occurredTo) and.push({ occurredAt: { lt: filter.occurredTo } });
  if (filter.correlationId !== undefined) and.push({ correlationId: filter.correlationId });
  if (filter.fromSequence !== undefined) and.push({ sequence: { gte: filter.fromSequence } });
  if (filter.toSequence !== undefined) and.push({ sequence: { lte: filter.toSequence } });
  if (after) {
    and.push({
      OR: [{ chainId: { gt: after.chainId } }, { chainId: after.chainId, sequence: { gt: after.sequence } }],
    });
  }
  return { AND: and };
}

/**
 * One page of events ordered by (chain, sequence) after `after` (keyset pagination, so
 * appends while paging neither repeat nor skip an event); one extra row tells if more follow.
 */
export async function findEvents({
  db,
  filter,
  first,
  after,
}: {
  db: Database;
  filter: EventFilter;
  first: number;
  after: EventPosition | undefined;
}): Promise<{ items: StoredEvent[]; hasMore: boolean }> {
  const rows = await db.prisma.evidenceEvent.findMany({
    where: whereOf(filter, after),
    orderBy: [{ chainId: 'asc' }, { sequence: 'asc' }],
    take: first + 1,
    select: { canonical: true },
  });
  return { items: rows.slice(0, first).map(toStoredEvent), hasMore: rows.length > first };
}
