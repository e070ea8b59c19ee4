// Fills one tenant chain inside PostgreSQL, for the export benchmark at ten million events
// (`--fill=sql`): bulk-chain.ts builds every event in Node and sends it over (about 4,000
// events/s here), this sends a few templates and lets the server build the events.
//
// The canonical text still comes from the ledger's own code: Node builds one event per
// combination of the varying choices of workloadAdmission (actor, envelope type, service,
// classification, jurisdiction: 1,020 of them) with `buildEvent`, whose values that differ from
// event to event (id, time, correlation id, workload id, image digest, evidence pointer) are
// placeholders, and cuts it with `eventTemplate` where sequence, prev_hash and event_hash go.
// The server replaces the placeholders with values that need no JSON escaping (UUIDs, ISO
// times, hex digests), so the member order and the text stay RFC 8785, hashes the decision
// record with sha256() for its pointer, and fills in the position with the ledger's own
// `audit_event_text` (prisma/migrations/*_evidence_append_function), the function every
// append uses. The bench's database is thrown away afterwards; so is the function.
import { chainIdFor } from '../lib/evidence/evidence-event';
import type { Database } from '../lib/db/database';
import { buildEvent } from '../lib/evidence/ledger';
import { eventTemplate } from '../lib/evidence/event-template';
import type { JsonObject } from '../lib/evidence/canonical-json';
import { workloadAdmission } from './support/workload-admission';

/** Events built per call (one transaction each). */
const BATCH = 20_000;
/** The least common multiple of the choices workloadAdmission cycles through (3, 5, 17, 4, 4). */
const VARIANTS = 1020;
const START = '2026-01-01T00:00:00.000Z';
/** An instant no event has: its ISO text is replaced by each event's time. */
const PLACEHOLDER_TIME = new Date('1999-12-31T23:59:59.999Z');

const PLACEHOLDERS = {
  id: '00000000-0000-4000-8000-00000000face',
  correlation: '00000000-0000-4000-8000-0000000c0de0',
  workload: '00000000-0000-4000-8000-00000000b0a7',
  image: 'f'.repeat(64),
} as const;

interface Variant {
  before_hash: string;
  before_prev: string;
  before_sequence: string;
  after_sequence: string;
  /** The decision record's canonical text, and the pointer it had with the placeholders. */
  record: string;
  pointer: string;
}

/** workloadAdmission's event `n`, with placeholders where it draws random values. */
function variant(tenantId: string, n: number): Variant {
  const input = workloadAdmission(tenantId, n);
  const details = input.details as JsonObject;
  const imageRef = String(details.image_ref).replace(/@sha256:[0-9a-f]{64}$/, `@sha256:${PLACEHOLDERS.image}`);
  const placeholders = {
    ...input,
    correlationId: PLACEHOLDERS.correlation,
    details: { ...details, workload_id: PLACEHOLDERS.workload, image_ref: imageRef },
  };
  const { event, record } = buildEvent(placeholders, { id: PLACEHOLDERS.id, sequence: 1, prevHash: null, occurredAt: PLACEHOLDER_TIME });
  const { sequence: _sequence, event_hash: _hash, prev_hash: _prev, ...fields } = event as unknown as JsonObject;
  const template = eventTemplate(fields);
  return {
    before_hash: template.beforeHash,
    before_prev: template.beforePrev,
    before_sequence: template.beforeSequence,
    after_sequence: template.afterSequence,
    record: record.text,
    pointer: record.pointer,
  };
}

/**
 * `bench_fill_chain(...)`: events `from_n + 1 .. from_n + count` of the chain after `prev`,
 * event n built from variant n mod their number (the variants' pieces as parallel arrays),
 * stored with their decision records; returns the last event_hash.
 */
const FILL_FUNCTION = `
CREATE OR REPLACE FUNCTION bench_fill_chain(
  before_hash text[], before_prev text[], before_sequence text[], after_sequence text[], record_texts text[], record_pointers text[],
  chain text, tenant text, from_n integer, count integer, prev text, start_at timestamptz,
  placeholder_id text, placeholder_correlation text, placeholder_workload text, placeholder_image text, placeholder_time text
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  variants integer := array_length(before_hash, 1);
  ids uuid[] := '{}'; seqs integer[] := '{}'; ats timestamptz[] := '{}'; corrs text[] := '{}';
  ptrs text[] := '{}'; recs text[] := '{}'; prevs text[] := '{}'; hashes text[] := '{}'; texts text[] := '{}';
  k integer; n integer; id uuid; corr text; wl text; image text; at timestamptz; at_text text; rec text; ptr text;
  piece text[]; filled record;
BEGIN
  FOR n IN from_n .. from_n + count - 1 LOOP
    k := (n % variants) + 1;
    id := gen_random_uuid();
    corr := gen_random_uuid()::text;
    wl := gen_random_uuid()::text;
    image := encode(sha256(convert_to(wl, 'UTF8')), 'hex');
    at := start_at + n * interval '10 milliseconds';
    at_text := to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    rec := replace(replace(record_texts[k], placeholder_correlation, corr), placeholder_time, at_text);
    ptr := 'eosc://evidence/sha256:' || encode(sha256(convert_to(rec, 'UTF8')), 'hex');
    piece := ARRAY[before_hash[k], before_prev[k], before_sequence[k], after_sequence[k]];
    FOR i IN 1..4 LOOP
      piece[i] := replace(replace(replace(replace(replace(replace(piece[i],
        placeholder_id, id::text), placeholder_correlation, corr), placeholder_workload, wl),
        placeholder_image, image), placeholder_time, at_text), record_pointers[k], ptr);
    END LOOP;
    filled := audit_event_text(piece[1], piece[2], piece[3], piece[4], n + 1, prev);
    ids := ids || id; seqs := seqs || (n + 1); ats := ats || at; corrs := corrs || corr;
    ptrs := ptrs || ptr; recs := recs || rec; prevs := prevs || prev;
    hashes := hashes || filled.event_hash; texts := texts || filled.canonical;
    prev := filled.event_hash;
  END LOOP;
  INSERT INTO audit_evidence_artifacts (pointer, tenant_id, media_type, content)
    SELECT p, tenant, 'application/json', c FROM unnest(ptrs, recs) AS x(p, c) ON CONFLICT DO NOTHING;
  INSERT INTO audit_evidence_events (id, chain_id, sequence, tenant_id, event_type, outcome, occurred_at, correlation_id,
      evidence_pointer, prev_hash, event_hash, canonical)
    SELECT i, chain, s, tenant, 'workload.admit', 'accepted', a, c, p, ph, h, x
      FROM unnest(ids, seqs, ats, corrs, ptrs, prevs, hashes, texts) AS u(i, s, a, c, p, ph, h, x);
  RETURN prev;
END
$$`;

/** Appends `count` workload admissions to the tenant's (empty) chain, built by the server; reports progress. */
export async function serverFill(db: Database, tenantId: string, count: number, progress: (done: number) => void): Promise<void> {
  if (db.kind !== 'postgresql') throw new Error('--fill=sql needs PostgreSQL (it uses its sha256() and the append function)');
  const variants = Array.from({ length: VARIANTS }, (_, n) => variant(tenantId, n));
  const column = (key: keyof Variant) => variants.map((item) => item[key]);
  const chainId = chainIdFor(tenantId);
  await db.prisma.$executeRawUnsafe(FILL_FUNCTION);
  let prevHash: string | null = null;
  for (let done = 0; done < count; ) {
    const size = Math.min(BATCH, count - done);
    const rows: Array<{ last: string }> = await db.prisma.$queryRawUnsafe(
      `SELECT bench_fill_chain($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7, $8, $9, $10, $11, $12::timestamptz, $13, $14, $15, $16, $17) AS last`,
      column('before_hash'),
      column('before_prev'),
      column('before_sequence'),
      column('after_sequence'),
      column('record'),
      column('pointer'),
      chainId,
      tenantId,
      done,
      size,
      prevHash,
      START,
      PLACEHOLDERS.id,
      PLACEHOLDERS.correlation,
      PLACEHOLDERS.workload,
      PLACEHOLDERS.image,
      PLACEHOLDER_TIME.toISOString(),
    );
    prevHash = rows[0]!.last;
    done += size;
    progress(done);
  }
  await db.prisma.$executeRawUnsafe(
    'INSERT INTO audit_chain_heads (chain_id, tenant_id, sequence, event_hash) VALUES ($1, $2, $3, $4)',
    chainId,
    tenantId,
    count,
    prevHash,
  );
  await db.prisma.$executeRawUnsafe('DROP FUNCTION bench_fill_chain');
}
