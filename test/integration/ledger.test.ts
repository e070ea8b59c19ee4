import { randomUUID } from 'node:crypto';
import { appendEvidence, buildEvent, evidenceTransaction } from '../../lib/evidence/ledger';
import { recordRefusal } from '../../lib/evidence/refusal';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import type { EvidenceInput, Refusal } from '../../lib/evidence/evidence-event';
import type { Database } from '../../lib/db/database';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const VERIFY = `query($t: ID!, $from: Int, $to: Int) {
  verifyChain(tenantId: $t, fromSequence: $from, toSequence: $to) { valid checked firstBadSequence reason toSequence }
}`;

interface Verification {
  valid: boolean;
  checked: number;
  firstBadSequence: number | null;
  reason: string | null;
  toSequence: number | null;
}

function append(db: Database, tenantId: string, n: number): Promise<unknown> {
  return db.prisma.$transaction((tx) =>
    appendEvidence(tx, {
      tenantId,
      eventType: 'workload.admit',
      actor: 'writer',
      outcome: 'accepted',
      correlationId: `corr-${n}`,
      details: { workload_id: `wl-${n}` },
    }),
  );
}

/** A refused workload admission on the chain of `tenantId`. */
function refusedWorkload(tenantId: string, correlationId: string): EvidenceInput & { refusal: Refusal; outcome: 'refused' } {
  return {
    tenantId,
    eventType: 'workload.refuse',
    actor: 'alice',
    outcome: 'refused',
    correlationId,
    authoritySnapshotId: 'auth-dev-001',
    policySnapshotId: 'pol-1',
    refusal: {
      reasonClass: 'policy_denied',
      reasonCode: 'registry_not_allowed',
      subject: 'workload.deploy',
      reason: 'registry not allowed',
    },
  };
}

describe('evidence ledger', () => {
  let env: TestStack;
  let db: Database;

  beforeAll(async () => {
    env = await startTestStack();
    db = env.stack.services.db;
  });
  afterAll(() => env.stop());

  async function verify(tenantId: string, from?: number, to?: number): Promise<Verification> {
    const result = await env.gql<{ verifyChain: Verification }>(VERIFY, { t: tenantId, from, to });
    expect(result.errors).toBeUndefined();
    return result.data!.verifyChain;
  }

  it('checklist 57: 50 concurrent writers on one tenant give a gap-free valid chain', async () => {
    const tenant = uniqueId();
    await Promise.all(Array.from({ length: 50 }, (_, n) => append(db, tenant, n)));
    const rows = await db.prisma.evidenceEvent.findMany({
      where: { chainId: chainIdFor(tenant) },
      orderBy: { sequence: 'asc' },
      select: { sequence: true },
    });
    expect(rows.map((row) => row.sequence)).toEqual(Array.from({ length: 50 }, (_, n) => n + 1));
    expect(await verify(tenant)).toEqual({ valid: true, checked: 50, firstBadSequence: null, reason: null, toSequence: 50 });
  });

  it('1,024 concurrent appends on one tenant queue per chain and all commit, while a cold tenant is not kept waiting behind them', async () => {
    const hot = uniqueId();
    const cold = uniqueId();
    const admit = (tenantId: string, n: number) =>
      evidenceTransaction(db, tenantId, (tx) =>
        appendEvidence(tx, { tenantId, eventType: 'workload.admit', actor: 'writer', outcome: 'accepted', correlationId: `c-${n}` }),
      );
    let hotDone = 0;
    const burst = Promise.all(
      Array.from({ length: 1024 }, (_, n) =>
        admit(hot, n).then(() => {
          hotDone += 1;
        }),
      ),
    );
    // The cold tenant's appends wait for at most one hot transaction each, not for the burst.
    for (let n = 0; n < 5; n++) await admit(cold, n);
    expect(hotDone).toBeLessThan(512);
    await burst;
    expect(hotDone).toBe(1024);
    expect(await verify(hot)).toEqual({ valid: true, checked: 1024, firstBadSequence: null, reason: null, toSequence: 1024 });
    expect(await verify(cold)).toMatchObject({ valid: true, checked: 5 });
  }, 120_000);

  it('stores byte for byte the event and decision record that buildEvent builds (what synthetic chains and bulk fills use)', async () => {
    const tenant = uniqueId();
    const inputs: EvidenceInput[] = [
      { tenantId: tenant, eventType: 'tenant.create', actor: 'admin', outcome: 'accepted', correlationId: randomUUID() },
      {
        ...refusedWorkload(tenant, randomUUID()),
        details: { workload_id: 'wl-1', image: { ref: 'registry.example/app', digests: ['sha256:ab'] } },
        record: { policy_input: { registry: 'registry.example' } },
      },
    ];
    const appended = [];
    for (const input of inputs) appended.push(await db.prisma.$transaction((tx) => appendEvidence(tx, input)));
    const rows = await db.prisma.evidenceEvent.findMany({ where: { chainId: chainIdFor(tenant) }, orderBy: { sequence: 'asc' } });
    for (const [index, row] of rows.entries()) {
      const built = buildEvent(inputs[index]!, { id: row.id, sequence: row.sequence, prevHash: row.prevHash, occurredAt: row.occurredAt });
      expect(row.canonical).toBe(built.canonical);
      expect([row.eventHash, row.evidencePointer]).toEqual([built.event.event_hash, built.record.pointer]);
      expect(appended[index]).toEqual(built.event);
      const artifact = await db.prisma.evidenceArtifact.findUnique({ where: { pointer: built.record.pointer } });
      expect(artifact?.content).toBe(built.record.text);
    }
  });

  it('different tenants append in parallel into their own chains', async () => {
    const tenants = [uniqueId(), uniqueId(), uniqueId()];
    await Promise.all(tenants.flatMap((tenant) => Array.from({ length: 10 }, (_, n) => append(db, tenant, n))));
    for (const tenant of tenants) expect(await verify(tenant)).toMatchObject({ valid: true, checked: 10 });
  });

  it('a rolled-back action leaves no event and no artifact, and the chain continues after it', async () => {
    const tenant = uniqueId();
    await append(db, tenant, 1);
    let pointer = '';
    await expect(
      db.prisma.$transaction(async (tx) => {
        const event = await appendEvidence(tx, {
          tenantId: tenant,
          eventType: 'workload.admit',
          actor: 'writer',
          outcome: 'accepted',
          correlationId: 'rolled-back',
        });
        pointer = event.evidence_pointer;
        throw new Error('the governed action failed');
      }),
    ).rejects.toThrow('the governed action failed');
    expect(await db.prisma.evidenceEvent.count({ where: { correlationId: 'rolled-back' } })).toBe(0);
    expect(await db.prisma.evidenceArtifact.count({ where: { pointer } })).toBe(0);
    await append(db, tenant, 2);
    expect(await verify(tenant)).toMatchObject({ valid: true, checked: 2 });
  });

  it('checklist 47: the database itself refuses UPDATE, DELETE and TRUNCATE of evidence', async () => {
    const tenant = uniqueId();
    await append(db, tenant, 1);
    const chain = chainIdFor(tenant);
    const attempts = [
      db.prisma.$executeRawUnsafe(`UPDATE audit_evidence_events SET outcome = 'refused' WHERE chain_id = '${chain}'`),
      db.prisma.$executeRawUnsafe(`DELETE FROM audit_evidence_events WHERE chain_id = '${chain}'`),
      db.prisma.$executeRawUnsafe(`UPDATE audit_evidence_artifacts SET content = '{}' WHERE tenant_id = '${tenant}'`),
      db.prisma.$executeRawUnsafe(`DELETE FROM audit_evidence_artifacts WHERE tenant_id = '${tenant}'`),
      db.prisma.$executeRawUnsafe('TRUNCATE audit_evidence_events'),
      db.prisma.$executeRawUnsafe('TRUNCATE audit_evidence_artifacts CASCADE'),
    ];
    for (const attempt of attempts) await expect(attempt).rejects.toThrow(/append-only/);
    expect(await verify(tenant)).toMatchObject({ valid: true, checked: 1 });
  });

  describe('tampering behind the service (triggers disabled)', () => {
    async function tamper(sql: string): Promise<void> {
      await db.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe('ALTER TABLE audit_evidence_events DISABLE TRIGGER audit_evidence_events_append_only');
        await tx.$executeRawUnsafe(sql);
        await tx.$executeRawUnsafe('ALTER TABLE audit_evidence_events ENABLE TRIGGER audit_evidence_events_append_only');
      });
    }

    async function chainOf(length: number): Promise<string> {
      const tenant = uniqueId();
      for (let n = 1; n <= length; n += 1) await append(db, tenant, n);
      return tenant;
    }

    it('checklist 47: a changed event is reported at its sequence', async () => {
      const tenant = await chainOf(5);
      await tamper(
        `UPDATE audit_evidence_events SET canonical = replace(canonical, '"actor":"writer"', '"actor":"mallory"') WHERE chain_id = '${chainIdFor(tenant)}' AND sequence = 3`,
      );
      expect(await verify(tenant)).toMatchObject({
        valid: false,
        checked: 2,
        firstBadSequence: 3,
        reason: 'event_hash does not match the event',
      });
      // A range that ends before the change still verifies.
      expect(await verify(tenant, 1, 2)).toMatchObject({ valid: true, checked: 2 });
    });

    it('a column changed without the hashed event is reported', async () => {
      const tenant = await chainOf(4);
      await tamper(`UPDATE audit_evidence_events SET outcome = 'refused' WHERE chain_id = '${chainIdFor(tenant)}' AND sequence = 4`);
      expect(await verify(tenant)).toMatchObject({
        valid: false,
        firstBadSequence: 4,
        reason: 'stored column outcome differs from the hashed event',
      });
    });

    it('a deleted event is reported as a gap', async () => {
      const tenant = await chainOf(5);
      await tamper(`DELETE FROM audit_evidence_events WHERE chain_id = '${chainIdFor(tenant)}' AND sequence = 2`);
      expect(await verify(tenant)).toMatchObject({ valid: false, firstBadSequence: 2, reason: 'sequence 2 is missing (next event has 3)' });
    });

    it('checklist 48: a truncated tail is caught against a checkpoint taken before', async () => {
      const tenant = await chainOf(4);
      const head = await env.gql<{ chainHead: { sequence: number } }>(`query($t: ID!) { chainHead(tenantId: $t) { sequence } }`, {
        t: tenant,
      });
      expect(head.data!.chainHead.sequence).toBe(4);
      await tamper(`DELETE FROM audit_evidence_events WHERE chain_id = '${chainIdFor(tenant)}' AND sequence = 4`);
      expect(await verify(tenant, 1, 4)).toMatchObject({
        valid: false,
        firstBadSequence: 4,
        reason: 'events are missing at the end of the range',
      });
    });
  });

  it('records a refusal in its own transaction and returns its evidence pointer', async () => {
    const tenant = uniqueId();
    const correlationId = randomUUID();
    const error = await recordRefusal(db, refusedWorkload(tenant, correlationId), { code: 'ECS_FORBIDDEN', message: 'workload refused' });
    expect(error.code).toBe('ECS_FORBIDDEN');
    expect(error.evidencePointer).toMatch(/^eosc:\/\/evidence\/sha256:[0-9a-f]{64}$/);
    const events = await env.gql<{ events: { items: Array<Record<string, unknown>> } }>(
      `query($f: EventFilter) { events(filter: $f) { items { outcome evidencePointer refusalReasonClass refusalReasonCode refusalSubject refusalReason policySnapshotId authoritySnapshotId correlationId } } }`,
      { f: { tenantId: tenant } },
    );
    expect(events.data!.events.items).toEqual([
      {
        outcome: 'refused',
        evidencePointer: error.evidencePointer,
        refusalReasonClass: 'policy_denied',
        refusalReasonCode: 'registry_not_allowed',
        refusalSubject: 'workload.deploy',
        refusalReason: 'registry not allowed',
        policySnapshotId: 'pol-1',
        authoritySnapshotId: 'auth-dev-001',
        correlationId,
      },
    ]);
  });
});
