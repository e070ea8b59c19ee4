import type { Database } from '../../lib/db/database';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import { syntheticChain } from './synthetic-chain';

/** Rows per INSERT statement. */
const BATCH = 1000;

/**
 * Writes a synthetic chain of `count` events for `tenantId` straight into the evidence
 * tables (with its artifacts and chain head), in a few multi-row INSERTs: thousands of
 * events in about a second instead of one transaction per event. The chain verifies, and
 * events appended afterwards through the ledger continue it. Event ids are fixed by the
 * sequence (see synthetic-chain.ts), so one database holds one such chain.
 */
export async function fillSyntheticChain(db: Database, { tenantId, count }: { tenantId: string; count: number }): Promise<void> {
  const chain = syntheticChain({ tenantId, count });
  const artifacts = [...chain.artifacts].map(([pointer, bytes]) => [pointer, Buffer.from(bytes).toString('utf8')] as const);
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO audit_evidence_artifacts (pointer, tenant_id, media_type, content)
     SELECT p, $2, 'application/json', c FROM unnest($1::text[], $3::text[]) AS t(p, c) ON CONFLICT DO NOTHING`,
    artifacts.map(([pointer]) => pointer),
    tenantId,
    artifacts.map(([, content]) => content),
  );
  let head = { sequence: 0, eventHash: '' };
  let rows: Array<Record<string, string | number | null>> = [];
  const flush = async () => {
    const column = (key: string) => rows.map((row) => row[key]);
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO audit_evidence_events (id, chain_id, sequence, tenant_id, event_type, outcome, occurred_at, correlation_id, evidence_pointer, prev_hash, event_hash, canonical)
       SELECT id::uuid, $2, seq, $3, et, oc, at::timestamptz, co, ep, ph, eh, ca
         FROM unnest($1::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
           AS t(id, seq, et, oc, at, co, ep, ph, eh, ca)`,
      column('id'),
      chainIdFor(tenantId),
      tenantId,
      column('sequence'),
      column('eventType'),
      column('outcome'),
      column('occurredAt'),
      column('correlationId'),
      column('evidencePointer'),
      column('prevHash'),
      column('eventHash'),
      column('canonical'),
    );
    rows = [];
  };
  for (const { event, canonical } of chain.built()) {
    rows.push({
      id: event.id,
      sequence: event.sequence,
      eventType: event.event_type,
      outcome: event.outcome,
      occurredAt: event.occurred_at,
      correlationId: event.correlation_id ?? null,
      evidencePointer: event.evidence_pointer,
      prevHash: typeof event.prev_hash === 'string' ? event.prev_hash : null,
      eventHash: event.event_hash,
      canonical,
    });
    head = { sequence: event.sequence, eventHash: event.event_hash };
    if (rows.length === BATCH) await flush();
  }
  if (rows.length > 0) await flush();
  await db.prisma.$executeRawUnsafe(
    'INSERT INTO audit_chain_heads (chain_id, tenant_id, sequence, event_hash) VALUES ($1, $2, $3, $4)',
    chainIdFor(tenantId),
    tenantId,
    head.sequence,
    head.eventHash,
  );
}
