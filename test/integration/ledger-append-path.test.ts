import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Database } from '../../lib/db/database';
import type { JsonObject, JsonValue } from '../../lib/evidence/canonical-json';
import { ENVELOPE_FIELDS, chainIdFor } from '../../lib/evidence/evidence-event';
import type { EvidenceInput } from '../../lib/evidence/evidence-event';
import { eventTemplate, fillEventTemplate } from '../../lib/evidence/event-template';
import { appendEvidenceBatch, buildEvent, evidenceTransaction, recordEvidence } from '../../lib/evidence/ledger';
import { verifyChain } from '../../subgraphs/audit/data/chain';
import { openMigratedTestDatabase } from '../../testkit/test-database';

// Text of every kind a value or key can hold: any code point (controls, NUL, U+2028,
// astral characters), quotes and backslashes. Lone surrogates have no RFC 8785 form: the
// ledger refuses them (the planes escape them first), as the last test shows.
const anyText = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 12 }),
    fc.constantFrom('"', '\\', '\u0000', '\u2028', 'é', '😀', 'prev_hash', 'sequence', ''),
  )
  .filter((text) => text.isWellFormed());
// Values stored in columns of their own as well (PostgreSQL text holds no NUL; the input boundary refuses it there).
const columnText = anyText.filter((text) => !text.includes('\u0000'));
const detailKey = anyText.filter((key) => !ENVELOPE_FIELDS.has(key));
const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-0, 1e21, 5e-324, 2 ** 53));
const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyText,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(anyText, tie('value'), { maxKeys: 3 }),
  ),
})).value;

const input: fc.Arbitrary<EvidenceInput> = fc.record(
  {
    tenantId: fc.option(
      columnText.map((text) => `t-${text}`),
      { nil: undefined },
    ),
    eventType: columnText,
    actor: anyText,
    outcome: fc.constantFrom('accepted' as const, 'refused' as const, 'failed' as const),
    correlationId: columnText,
    authoritySnapshotId: fc.option(anyText, { nil: undefined }),
    refusal: fc.option(
      fc.record({
        reasonClass: fc.constant('policy_denied' as const),
        reasonCode: anyText,
        subject: anyText,
        reason: anyText,
      }),
      { nil: undefined },
    ),
    details: fc.dictionary(detailKey, jsonValue, { maxKeys: 5 }) as fc.Arbitrary<JsonObject>,
  },
  { requiredKeys: ['tenantId', 'eventType', 'actor', 'outcome', 'correlationId', 'details'] },
);
const position = fc.record({
  sequence: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  prevHash: fc.option(fc.stringMatching(/^sha256:[0-9a-f]{64}$/), { nil: undefined }),
  occurredAt: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
});

describe('the one-statement append path', () => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await openMigratedTestDatabase({ waitersPerKey: 4 }));
  });
  afterAll(() => close());

  it('the database fills an event in exactly as Node hashes it (random events: Unicode, escapes, numbers, nesting)', async () => {
    await fc.assert(
      fc.asyncProperty(input, position, async (evidence, at) => {
        const built = buildEvent(evidence, { id: randomUUID(), ...at });
        const { sequence: _sequence, prev_hash: _prev, event_hash: _hash, ...fields } = built.event;
        const template = eventTemplate(fields);
        const node = fillEventTemplate(template, at);
        expect(node).toEqual({ eventHash: built.event.event_hash, canonical: built.canonical });
        const [row] = await db.prisma.$queryRaw<Array<{ event_hash: string; canonical: string }>>`
          SELECT event_hash, canonical FROM audit_event_text(${template.beforeHash}, ${template.beforePrev},
            ${template.beforeSequence}, ${template.afterSequence}, ${at.sequence}::integer, ${at.prevHash ?? null})`;
        expect(row).toEqual({ event_hash: built.event.event_hash, canonical: built.canonical });
      }),
      { numRuns: 150 },
    );
  });

  it('random events appended in batches are stored byte for byte as buildEvent builds them, and the chain verifies', async () => {
    const tenantId = `prop-${randomUUID()}`;
    let sequence = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(input, { minLength: 1, maxLength: 3 }), async (inputs) => {
        const now = new Date();
        const events = await evidenceTransaction(db, tenantId, (tx) =>
          appendEvidenceBatch(
            tx,
            inputs.map((evidence) => ({ ...evidence, tenantId })),
            now,
          ),
        );
        for (const [index, event] of events.entries()) {
          sequence += 1;
          expect(event.sequence).toBe(sequence);
          const stored = await db.prisma.evidenceEvent.findUniqueOrThrow({ where: { id: event.id } });
          const expected = buildEvent(
            { ...inputs[index]!, tenantId },
            { id: event.id, sequence, prevHash: stored.prevHash, occurredAt: now },
          );
          expect(stored.canonical).toBe(expected.canonical);
          expect(event).toEqual(expected.event);
          const artifact = await db.prisma.evidenceArtifact.findUniqueOrThrow({ where: { pointer: event.evidence_pointer } });
          expect(artifact.content).toBe(expected.record.text);
        }
      }),
      { numRuns: 40 },
    );
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: sequence });
  });

  it('several events of one action go in one statement, in order, on one chain', async () => {
    const tenantId = `batch-${randomUUID()}`;
    const base = { tenantId, actor: 'reader', outcome: 'accepted' as const, correlationId: 'c-1' };
    const [get, receipt] = await recordEvidence(db, [
      { ...base, eventType: 'object.get', details: { n: 1 } },
      { ...base, eventType: 'data.usage.receipt', details: { n: 2 } },
    ]);
    expect([get!.sequence, receipt!.sequence]).toEqual([1, 2]);
    expect(receipt!.prev_hash).toBe(get!.event_hash);
    await expect(
      recordEvidence(db, [
        { ...base, eventType: 'a' },
        { ...base, tenantId: undefined, eventType: 'b' },
      ]),
    ).rejects.toThrow('one chain per call');
  });

  it('an append writes one version of the chain head: the first creates it, each later one updates it once', async () => {
    const tenantId = `head-${randomUUID()}`;
    const base = { tenantId, actor: 'writer', outcome: 'accepted' as const, correlationId: 'c-head', details: {} };
    // Row versions this transaction has written so far (PostgreSQL's per-transaction counters).
    const written = async (tx: Parameters<Parameters<typeof evidenceTransaction>[2]>[0]) => {
      const [row] = await tx.$queryRawUnsafe<{ inserted: number; updated: number }[]>(
        `SELECT pg_stat_get_xact_tuples_inserted('audit_chain_heads'::regclass)::int AS inserted,
                pg_stat_get_xact_tuples_updated('audit_chain_heads'::regclass)::int AS updated`,
      );
      return row!;
    };
    const counts = await evidenceTransaction(db, tenantId, async (tx) => {
      const before = await written(tx);
      await appendEvidenceBatch(tx, [{ ...base, eventType: 'first' }]);
      const afterFirst = await written(tx);
      await appendEvidenceBatch(tx, [
        { ...base, eventType: 'second' },
        { ...base, eventType: 'third' },
      ]);
      const afterThird = await written(tx);
      return {
        first: { inserted: afterFirst.inserted - before.inserted, updated: afterFirst.updated - before.updated },
        next: { inserted: afterThird.inserted - afterFirst.inserted, updated: afterThird.updated - afterFirst.updated },
      };
    });
    expect(counts).toEqual({ first: { inserted: 1, updated: 1 }, next: { inserted: 0, updated: 2 } });
    expect(await db.prisma.chainHead.findUnique({ where: { chainId: chainIdFor(tenantId) } })).toMatchObject({ sequence: 3 });
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 3 });
  });

  it('appends that pile up on one chain share statements, each action keeps its own events in order, and the chain verifies', async () => {
    const tenantId = `group-${randomUUID()}`;
    const actions = Array.from({ length: 40 }, (_, n) => [
      { tenantId, actor: 'reader', outcome: 'accepted' as const, correlationId: `c-${n}`, eventType: 'object.get', details: { n } },
      { tenantId, actor: 'reader', outcome: 'accepted' as const, correlationId: `c-${n}`, eventType: 'data.usage.receipt', details: { n } },
    ]);
    // Queued before the first statement ran: grouped into few statements.
    const results = await Promise.all(actions.map((events) => recordEvidence(db, events)));
    for (const [n, [get, receipt]] of results.entries()) {
      expect(get).toMatchObject({ event_type: 'object.get', n, correlation_id: `c-${n}` });
      expect(receipt).toMatchObject({ event_type: 'data.usage.receipt', n, prev_hash: get!.event_hash, sequence: get!.sequence + 1 });
    }
    expect(new Set(results.flat().map((event) => event.sequence)).size).toBe(80);
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 80 });
  });

  it('appends of different chains share statements: one commit for many tenants, and every chain verifies', async () => {
    const tenants = Array.from({ length: 24 }, (_, n) => `combined-${n}-${randomUUID()}`);
    const base = { actor: 'reader', outcome: 'accepted' as const, eventType: 'object.get' };
    const results = await Promise.all(
      tenants.map((tenantId, n) =>
        recordEvidence(db, [
          { ...base, tenantId, correlationId: `c-${n}`, details: { n } },
          { ...base, tenantId, correlationId: `c-${n}`, eventType: 'data.usage.receipt', details: { n } },
        ]),
      ),
    );
    for (const [n, [get, receipt]] of results.entries()) {
      expect(get).toMatchObject({ tenant_id: tenants[n], sequence: 1, n });
      expect(receipt).toMatchObject({ tenant_id: tenants[n], sequence: 2, prev_hash: get!.event_hash, n });
    }
    // Rows committed by one transaction share its id (xmin): far fewer transactions than tenants.
    const transactions = await db.query<{ xmin: string }>(
      'SELECT DISTINCT xmin::text AS xmin FROM audit_evidence_events WHERE chain_id = ANY($1::text[])',
      [tenants.map((tenantId) => chainIdFor(tenantId))],
    );
    expect(transactions.length).toBeLessThanOrEqual(4);
    for (const tenantId of tenants) expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 2 });
  });

  it('an action that cannot be stored fails alone: the others of its combined statement commit', async () => {
    const tenants = Array.from({ length: 12 }, (_, n) => `isolated-${n}-${randomUUID()}`);
    const base = { actor: 'reader', outcome: 'accepted' as const, eventType: 'object.get' };
    const [taken] = await recordEvidence(db, [{ ...base, tenantId: tenants[0]!, correlationId: 'first' }]);
    // The event id is taken already: its insert fails, and with it the combined statement it was in.
    const outcomes = await Promise.allSettled(
      tenants.map((tenantId, n) =>
        recordEvidence(db, [{ ...base, tenantId, correlationId: `c-${n}`, ...(n === 7 ? { eventId: taken!.id } : {}) }]),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(tenants.map((_, n) => (n === 7 ? 'rejected' : 'fulfilled')));
    for (const [n, tenantId] of tenants.entries()) {
      const expected = n === 0 ? 2 : n === 7 ? 0 : 1;
      expect(await db.prisma.evidenceEvent.count({ where: { chainId: chainIdFor(tenantId) } })).toBe(expected);
      if (expected) expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: expected });
    }
    const [head] = await db.query<{ sequence: number }>('SELECT sequence FROM audit_chain_heads WHERE chain_id = $1', [
      chainIdFor(tenants[7]),
    ]);
    expect(head?.sequence ?? 0).toBe(0);
  });

  it('own statements of other chains do not wait for chains whose locks transactions of this process hold', async () => {
    // More held chains than combined statements may run at once: were a held chain's read
    // combined with others, every combined statement would wait for a held lock.
    const held = Array.from({ length: 3 }, (_, n) => `held-${n}-${randomUUID()}`);
    const others = Array.from({ length: 6 }, (_, n) => `free-${n}-${randomUUID()}`);
    const base = { actor: 'writer', outcome: 'accepted' as const, eventType: 'object.get', correlationId: 'c' };
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const locked: Array<Promise<void>> = [];
    const transactions = held.map((tenantId) => {
      let lockTaken!: () => void;
      locked.push(new Promise<void>((resolve) => (lockTaken = resolve)));
      return evidenceTransaction(db, tenantId, async (tx) => {
        const events = await appendEvidenceBatch(tx, [{ ...base, tenantId, eventType: 'workload.admit' }]);
        lockTaken();
        await released;
        return events;
      });
    });
    if (db.kind === 'postgresql') {
      await Promise.all(locked);
      const heldReads = held.map((tenantId) => recordEvidence(db, [{ ...base, tenantId }]));
      // The other tenants' appends commit while the held chains' locks are held.
      const appended = await Promise.race([
        Promise.all(others.map((tenantId) => recordEvidence(db, [{ ...base, tenantId }]))),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the free chains waited for the held ones')), 5000)),
      ]);
      expect(appended.map(([event]) => event!.sequence)).toEqual(others.map(() => 1));
      release();
      await Promise.all(transactions);
      expect((await Promise.all(heldReads)).map(([event]) => event!.sequence)).toEqual(held.map(() => 2));
    } else {
      // The embedded database runs one transaction at a time: the others wait for the open ones.
      const appended = Promise.all(others.map((tenantId) => recordEvidence(db, [{ ...base, tenantId }])));
      release();
      await Promise.all(transactions);
      expect((await appended).map(([event]) => event!.sequence)).toEqual(others.map(() => 1));
    }
    for (const tenantId of held) expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true });
  });

  it('a full chain queue refuses at once with 503 and writes nothing half; the others commit and the chain verifies', async () => {
    const tenantId = `queue-${randomUUID()}`;
    // waitersPerKey is 4: one transaction per chain runs, four wait, the rest are refused.
    const running = 1;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, n) =>
        evidenceTransaction(db, tenantId, (tx) =>
          appendEvidenceBatch(tx, [
            { tenantId, actor: 'writer', outcome: 'accepted', correlationId: `c-${n}`, eventType: 'workload.admit' },
          ]),
        ),
      ),
    );
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(4 + running);
    expect(refused).toHaveLength(8 - running);
    for (const outcome of refused) {
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'ECS_DEPENDENCY_UNAVAILABLE' });
    }
    const stored = await db.prisma.evidenceEvent.count({ where: { chainId: chainIdFor(tenantId) } });
    expect(stored).toBe(4 + running);
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 4 + running });
  });

  it('an event with a lone surrogate is refused before anything is written', async () => {
    const tenantId = `surrogate-${randomUUID()}`;
    const base = { tenantId, actor: 'writer', outcome: 'accepted' as const, correlationId: 'c', eventType: 'workload.admit' };
    await expect(recordEvidence(db, [base, { ...base, details: { note: 'a\ud800b' } }])).rejects.toThrow('Lone surrogate');
    expect(await db.prisma.evidenceEvent.count({ where: { chainId: chainIdFor(tenantId) } })).toBe(0);
  });
});
