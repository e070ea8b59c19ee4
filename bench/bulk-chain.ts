// Fills one tenant chain fast for the export benchmark: events built by the ledger's own
// `buildEvent` (decision record -> evidence pointer, canonical event, event_hash, prev_hash),
// written with multi-row INSERTs (2,000 per statement) instead of one transaction per event.
// A million events take minutes instead of hours.
import { randomUUID } from 'node:crypto';
import type { Database } from '../lib/db/database';
import { chainIdFor } from '../lib/evidence/evidence-event';
import type { EvidenceInput } from '../lib/evidence/evidence-event';
import { buildEvent } from '../lib/evidence/ledger';
import { yieldToEventLoop } from './support/run-main';

const BATCH = 2000;

interface Row {
  id: string;
  sequence: number;
  eventType: string;
  outcome: string;
  occurredAt: string;
  correlationId: string;
  pointer: string;
  record: string;
  prevHash: string | null;
  eventHash: string;
  canonical: string;
}

/** One event as the ledger would append it after `prevHash`. */
function ledgerRow(input: EvidenceInput, sequence: number, prevHash: string | null, now: Date): Row {
  const { event, canonical, record } = buildEvent(input, { id: randomUUID(), sequence, prevHash, occurredAt: now });
  return {
    id: event.id,
    sequence,
    eventType: input.eventType,
    outcome: input.outcome,
    occurredAt: event.occurred_at,
    correlationId: input.correlationId,
    pointer: record.pointer,
    record: record.text,
    prevHash,
    eventHash: event.event_hash,
    canonical,
  };
}

async function insert(db: Database, tenantId: string, rows: Row[]): Promise<void> {
  const column = <K extends keyof Row>(key: K) => rows.map((row) => row[key]);
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO audit_evidence_artifacts (pointer, tenant_id, media_type, content)
     SELECT p, $2, 'application/json', c FROM unnest($1::text[], $3::text[]) AS t(p, c) ON CONFLICT DO NOTHING`,
    column('pointer'),
    tenantId,
    column('record'),
  );
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
    column('pointer'),
    column('prevHash'),
    column('eventHash'),
    column('canonical'),
  );
}

/** Appends `count` events made by `input(n)` to the tenant's (empty) chain; reports progress. */
export async function bulkFill(
  db: Database,
  tenantId: string,
  count: number,
  input: (n: number) => EvidenceInput,
  progress: (done: number) => void,
): Promise<void> {
  let prevHash: string | null = null;
  const start = Date.UTC(2026, 0, 1);
  for (let done = 0; done < count; ) {
    const rows: Row[] = [];
    for (let i = 0; i < BATCH && done + i < count; i += 1) {
      const row = ledgerRow(input(done + i), done + i + 1, prevHash, new Date(start + (done + i) * 10));
      prevHash = row.eventHash;
      rows.push(row);
    }
    await insert(db, tenantId, rows);
    done += rows.length;
    progress(done);
    await yieldToEventLoop();
  }
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO audit_chain_heads (chain_id, tenant_id, sequence, event_hash) VALUES ($1, $2, $3, $4)`,
    chainIdFor(tenantId),
    tenantId,
    count,
    prevHash,
  );
}
