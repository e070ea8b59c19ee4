import type { Database } from '../../../lib/db/database';
import { ENVELOPE_FIELDS, chainIdFor } from '../../../lib/evidence/evidence-event';
import type { EvidenceEvent } from '../../../lib/evidence/evidence-event';

/** A stored event: its canonical text parsed back, with the fields outside the envelope apart. */
export interface StoredEvent {
  envelope: EvidenceEvent;
  details: Record<string, unknown>;
  canonical: string;
}

function toStoredEvent(row: { canonical: string }): StoredEvent {
  const envelope = JSON.parse(row.canonical) as EvidenceEvent;
  const details = Object.fromEntries(Object.entries(envelope).filter(([key]) => !ENVELOPE_FIELDS.has(key)));
  return { envelope, details, canonical: row.canonical };
}

/** Events by id, for `_entities` batches: one query per batch, in the order asked. */
export async function getEventsByIds({
  db,
  ids,
}: {
  db: Database;
  ids: readonly string[];
}): Promise<Array<StoredEvent | null>> {
  const valid = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const rows = await db.prisma.evidenceEvent.findMany({ where: { id: { in: valid } }, select: { id: true, canonical: true } });
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

export interface EventPosition {
  chainId: string;
  sequence: number;
}

/** One page of events ordered by (chain, sequence) after `after`; one extra row tells if more follow. */
export async function findEvents({
  db,
  tenantId,
  first,
  after,
}: {
  db: Database;
  tenantId: string | undefined;
  first: number;
  after: EventPosition | undefined;
}): Promise<{ items: StoredEvent[]; hasMore: boolean }> {
  const rows = await db.prisma.evidenceEvent.findMany({
    where: {
      ...(tenantId === undefined ? {} : { chainId: chainIdFor(tenantId) }),
      ...(after
        ? {
            OR: [
              { chainId: { gt: after.chainId } },
              { chainId: after.chainId, sequence: { gt: after.sequence } },
            ],
          }
        : {}),
    },
    orderBy: [{ chainId: 'asc' }, { sequence: 'asc' }],
    take: first + 1,
    select: { canonical: true },
  });
  return { items: rows.slice(0, first).map(toStoredEvent), hasMore: rows.length > first };
}
