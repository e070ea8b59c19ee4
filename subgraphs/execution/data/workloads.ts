import { byKeys } from '../../../lib/db/by-keys';
import type { Database } from '../../../lib/db/database';
import { isUniqueViolation } from '../../../lib/db/unique-violation';
import { appendEvidence, changeWithEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { Workload } from '../../../prisma/generated/client';

export type { Workload };

/** Workloads by id, for `_entities` batches: one query per batch, in the order asked. */
export async function getWorkloadsByIds({ db, ids }: { db: Database; ids: readonly string[] }): Promise<Array<Workload | null>> {
  const rows = await db.prisma.workload.findMany({ where: { id: { in: [...ids] } } });
  return byKeys(ids, rows, (row) => row.id);
}

/** Every column of `execution_workloads`, named as the `Workload` model names them. */
const WORKLOAD_COLUMNS = `id, tenant_id AS "tenantId", envelope_type AS "envelopeType", image_ref AS "imageRef",
  policy_ref AS "policyRef", classification, jurisdiction, status, created_at AS "createdAt", updated_at AS "updatedAt"`;

/** The newest `first` workloads of each tenant, in one query for a whole batch of tenants. */
export async function findWorkloadsOfTenants({
  db,
  tenantIds,
  first,
}: {
  db: Database;
  tenantIds: readonly string[];
  first: number;
}): Promise<Workload[][]> {
  // One statement through the driver: a tenant's workloads are read on every query that
  // names them, and Prisma's per-query work cost more than the query.
  const rows = await db.query<Workload>(
    `SELECT ${WORKLOAD_COLUMNS} FROM (
       SELECT *, row_number() OVER (PARTITION BY tenant_id ORDER BY created_at DESC, id DESC) AS rank
         FROM execution_workloads WHERE tenant_id = ANY($1::text[])
     ) AS ranked WHERE rank <= $2 ORDER BY created_at DESC, id DESC`,
    [[...tenantIds], first],
  );
  return tenantIds.map((tenantId) => rows.filter((row) => row.tenantId === tenantId));
}

export interface CreateWorkloadData {
  id: string;
  tenantId: string;
  envelopeType: string;
  imageRef: string;
  policyRef: string | null;
  classification: string;
  jurisdiction: string;
}

/** Records an admitted workload and its `workload.admit` evidence in one transaction. */
export async function createWorkload({
  db,
  data,
  actor,
  correlationId,
  authoritySnapshotId,
  policySnapshotId,
  policyIds,
}: {
  db: Database;
  data: CreateWorkloadData;
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
  policySnapshotId: string;
  policyIds: string[];
}): Promise<Workload> {
  try {
    return await insertWorkload(db, data, { actor, correlationId, authoritySnapshotId, policySnapshotId, policyIds });
  } catch (error) {
    // A client-chosen id taken between the check and the insert: nothing was written.
    if (isUniqueViolation(error, 'execution_workloads_pkey')) {
      throw new EcsError(ErrorCode.Conflict, `workload ${data.id} already exists`, { field: 'id' });
    }
    throw error;
  }
}

/** The admitted workload's row, written in the statement that appends its evidence. */
const INSERT_WORKLOAD = `INSERT INTO execution_workloads
  (id, tenant_id, envelope_type, image_ref, policy_ref, classification, jurisdiction, status, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 'admitted', now(), now())
  RETURNING ${WORKLOAD_COLUMNS}`;

/**
 * The workload and its `workload.admit` event in one statement (`changeWithEvidence`): workload
 * admission is a hot governed action, and Prisma's interactive transaction cost more than it.
 */
async function insertWorkload(
  db: Database,
  data: CreateWorkloadData,
  decision: { actor: string; correlationId: string; authoritySnapshotId: string; policySnapshotId: string; policyIds: string[] },
): Promise<Workload> {
  const { actor, correlationId, authoritySnapshotId, policySnapshotId, policyIds } = decision;
  const { rows } = await changeWithEvidence(
    db,
    {
      sql: INSERT_WORKLOAD,
      params: [data.id, data.tenantId, data.envelopeType, data.imageRef, data.policyRef, data.classification, data.jurisdiction],
    },
    [
      {
        tenantId: data.tenantId,
        eventType: 'workload.admit',
        actor,
        outcome: 'accepted',
        correlationId,
        authoritySnapshotId,
        policySnapshotId,
        details: {
          policy_ids: policyIds,
          action: 'workload.deploy',
          workload_id: data.id,
          envelope_type: data.envelopeType,
          image_ref: data.imageRef,
          classification: data.classification,
          jurisdiction: data.jurisdiction,
        },
      },
    ],
  );
  return workloadFromJson(rows[0]!);
}

/** A workload row as `json_agg` answers it (`WORKLOAD_COLUMNS`; timestamps as ISO text). */
function workloadFromJson(row: JsonObject): Workload {
  return {
    id: String(row.id),
    tenantId: String(row.tenantId),
    envelopeType: String(row.envelopeType),
    imageRef: String(row.imageRef),
    policyRef: row.policyRef === null ? null : String(row.policyRef),
    classification: String(row.classification),
    jurisdiction: String(row.jurisdiction),
    status: String(row.status),
    createdAt: new Date(String(row.createdAt)),
    updatedAt: new Date(String(row.updatedAt)),
  };
}

/** One page of a tenant's workloads, newest first, after the (createdAt, id) position. */
export async function findWorkloads({
  db,
  tenantId,
  first,
  after,
}: {
  db: Database;
  tenantId: string;
  first: number;
  after: { createdAt: Date; id: string } | undefined;
}): Promise<{ items: Workload[]; hasMore: boolean }> {
  const rows = await db.prisma.workload.findMany({
    where: {
      tenantId,
      ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: first + 1,
  });
  return { items: rows.slice(0, first), hasMore: rows.length > first };
}

/** Sets a workload's status with `eventType` evidence, in one transaction. */
export async function changeWorkloadStatus({
  db,
  workload,
  status,
  eventType,
  action,
  actor,
  correlationId,
  authoritySnapshotId,
  detail,
}: {
  db: Database;
  workload: Workload;
  status: string;
  eventType: string;
  action: string;
  actor: string;
  correlationId: string;
  authoritySnapshotId?: string;
  detail?: string;
}): Promise<Workload> {
  return evidenceTransaction(db, workload.tenantId, async (tx) => {
    const changed = await tx.workload.update({ where: { id: workload.id }, data: { status } });
    await appendEvidence(tx, {
      tenantId: workload.tenantId,
      eventType,
      actor,
      outcome: 'accepted',
      correlationId,
      authoritySnapshotId,
      details: {
        action,
        workload_id: workload.id,
        previous_status: workload.status,
        status,
        ...(detail ? { detail } : {}),
      },
    });
    return changed;
  });
}
