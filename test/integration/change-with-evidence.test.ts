import { randomUUID } from 'node:crypto';
import type { Database } from '../../lib/db/database';
import { isUniqueViolation } from '../../lib/db/unique-violation';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import type { EvidenceInput } from '../../lib/evidence/evidence-event';
import { appendEvidenceWithChange, changeWithEvidence, evidenceTransaction, recordEvidence } from '../../lib/evidence/ledger';
import { verifyChain } from '../../subgraphs/audit/data/chain';
import { openMigratedTestDatabase } from '../../testkit/test-database';

// A governed change of a real table (the workloads'), as the execution plane writes it.
const INSERT = `INSERT INTO execution_workloads
  (id, tenant_id, envelope_type, image_ref, policy_ref, classification, jurisdiction, status, created_at, updated_at)
  VALUES ($1, $2, 'oci-container', $3, NULL, 'internal', 'EU', 'admitted', now(), now())
  RETURNING id, tenant_id AS "tenantId", image_ref AS "imageRef", created_at AS "createdAt"`;

const change = (id: string, tenantId: string, imageRef = 'registry.example.eu/app@sha256:00') => ({
  sql: INSERT,
  params: [id, tenantId, imageRef],
});

const admission = (tenantId: string, workloadId: string, extra: Partial<EvidenceInput> = {}): EvidenceInput => ({
  tenantId,
  eventType: 'workload.admit',
  actor: 'deployer',
  outcome: 'accepted',
  correlationId: randomUUID(),
  details: { workload_id: workloadId },
  ...extra,
});

describe('a governed change written in the statement that appends its evidence', () => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await openMigratedTestDatabase());
  });
  afterAll(() => close());

  const workloadsOf = (tenantId: string) =>
    db.query<{ id: string }>('SELECT id FROM execution_workloads WHERE tenant_id = $1 ORDER BY id', [tenantId]);
  const head = async (tenantId: string) =>
    (await db.query<{ sequence: number }>('SELECT sequence FROM audit_chain_heads WHERE chain_id = $1', [chainIdFor(tenantId)]))[0]
      ?.sequence ?? 0;

  it('answers the changed row and the events, both stored, and the chain verifies', async () => {
    const tenantId = `cwe-${randomUUID()}`;
    await recordEvidence(db, [admission(tenantId, 'before')]);
    const id = randomUUID();
    const { rows, events } = await changeWithEvidence(db, change(id, tenantId), [
      admission(tenantId, id),
      admission(tenantId, id, { eventType: 'workload.note' }),
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id, tenantId, imageRef: 'registry.example.eu/app@sha256:00' });
    expect(Number.isNaN(new Date(String(rows[0]!.createdAt)).getTime())).toBe(false);
    expect(events.map((event) => [event.sequence, event.event_type])).toEqual([
      [2, 'workload.admit'],
      [3, 'workload.note'],
    ]);
    expect(events[1]!.prev_hash).toBe(events[0]!.event_hash);
    expect(await workloadsOf(tenantId)).toEqual([{ id }]);
    const stored = await db.query<{ id: string; event_hash: string }>(
      'SELECT id::text AS id, event_hash FROM audit_evidence_events WHERE chain_id = $1 AND sequence >= 2 ORDER BY sequence',
      [chainIdFor(tenantId)],
    );
    expect(stored).toEqual(events.map((event) => ({ id: event.id, event_hash: event.event_hash })));
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 3 });
  });

  it('a change that fails (the id is taken) appends nothing and leaves the first row as it was', async () => {
    const tenantId = `cwe-${randomUUID()}`;
    const id = randomUUID();
    await changeWithEvidence(db, change(id, tenantId, 'first'), [admission(tenantId, id)]);
    const failure = await changeWithEvidence(db, change(id, tenantId, 'second'), [admission(tenantId, id)]).catch(
      (error: unknown) => error,
    );
    expect(isUniqueViolation(failure, 'execution_workloads_pkey')).toBe(true);
    expect(isUniqueViolation(failure, 'audit_evidence_events_pkey')).toBe(false);
    expect(await head(tenantId)).toBe(1);
    const [row] = await db.query<{ image_ref: string }>('SELECT image_ref FROM execution_workloads WHERE id = $1', [id]);
    expect(row).toEqual({ image_ref: 'first' });
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 1 });
  });

  it('an append that fails (an event id already stored) leaves the change unwritten', async () => {
    const tenantId = `cwe-${randomUUID()}`;
    const [taken] = await recordEvidence(db, [admission(tenantId, 'x')]);
    const id = randomUUID();
    await expect(changeWithEvidence(db, change(id, tenantId), [admission(tenantId, id, { eventId: taken!.id })])).rejects.toThrow();
    expect(await workloadsOf(tenantId)).toEqual([]);
    expect(await head(tenantId)).toBe(1);
    // The chain goes on after the failure.
    await changeWithEvidence(db, change(id, tenantId), [admission(tenantId, id)]);
    expect(await head(tenantId)).toBe(2);
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 2 });
  });

  it('a change that writes no row appends nothing', async () => {
    const tenantId = `cwe-${randomUUID()}`;
    const none = {
      sql: `INSERT INTO execution_workloads
        (id, tenant_id, envelope_type, image_ref, classification, jurisdiction, status, created_at, updated_at)
        SELECT $1, $2, 'vm', 'i', 'internal', 'EU', 'admitted', now(), now() WHERE false RETURNING id`,
      params: [randomUUID(), tenantId],
    };
    await expect(changeWithEvidence(db, none, [admission(tenantId, 'none')])).rejects.toThrow('wrote no row');
    expect(await head(tenantId)).toBe(0);
  });

  it('events of two chains are refused before anything is written', async () => {
    const tenantId = `cwe-${randomUUID()}`;
    const id = randomUUID();
    await expect(
      changeWithEvidence(db, change(id, tenantId), [admission(tenantId, id), admission(`${tenantId}-other`, id)]),
    ).rejects.toThrow('one chain');
    expect(await workloadsOf(tenantId)).toEqual([]);
  });

  it('inside a transaction: the change, the statements alongside it and the events commit with it, or not at all', async () => {
    const tenantId = `cwe-${randomUUID()}`;
    const [earlier, id, undone] = [randomUUID(), randomUUID(), randomUUID()];
    await changeWithEvidence(db, change(earlier, tenantId), [admission(tenantId, earlier)]);
    const replacing = {
      ...change(id, tenantId),
      alongside: ["UPDATE execution_workloads SET status = 'replaced' WHERE tenant_id = $2 AND id <> $1"],
    };
    const { rows, events } = await evidenceTransaction(db, tenantId, (tx) =>
      appendEvidenceWithChange(tx, replacing, [admission(tenantId, id)]),
    );
    expect([rows[0]!.id, events[0]!.sequence]).toEqual([id, 2]);
    const statuses = await db.query<{ id: string; status: string }>('SELECT id, status FROM execution_workloads WHERE tenant_id = $1', [
      tenantId,
    ]);
    expect(new Map(statuses.map((row) => [row.id, row.status]))).toEqual(
      new Map([
        [earlier, 'replaced'],
        [id, 'admitted'],
      ]),
    );
    await expect(
      evidenceTransaction(db, tenantId, async (tx) => {
        await appendEvidenceWithChange(tx, change(undone, tenantId), [admission(tenantId, undone)]);
        throw new Error('a later step failed');
      }),
    ).rejects.toThrow('a later step failed');
    expect((await workloadsOf(tenantId)).map((row) => row.id)).not.toContain(undone);
    expect(await head(tenantId)).toBe(2);
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 2 });
  });

  it('changes and own-statement appends racing on one chain all commit, in one verifying chain', async () => {
    const tenantId = `cwe-${randomUUID()}`;
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const results = await Promise.all([
      ...ids.map((id) => changeWithEvidence(db, change(id, tenantId), [admission(tenantId, id)])),
      ...ids.map((id) => recordEvidence(db, [admission(tenantId, id, { eventType: 'workload.read' })])),
    ]);
    expect(results).toHaveLength(80);
    expect(await workloadsOf(tenantId)).toHaveLength(40);
    expect(await head(tenantId)).toBe(80);
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 80 });
  });
});
