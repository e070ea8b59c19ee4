import { byKeys } from '../../../lib/db/by-keys';
import type { Database } from '../../../lib/db/database';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { Prisma } from '../../../prisma/generated/client';
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
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new EcsError(ErrorCode.Conflict, `workload ${data.id} already exists`, { field: 'id' });
    }
    throw error;
  }
}

function insertWorkload(
  db: Database,
  data: CreateWorkloadData,
  decision: { actor: string; correlationId: string; authoritySnapshotId: string; policySnapshotId: string; policyIds: string[] },
): Promise<Workload> {
  const { actor, correlationId, authoritySnapshotId, policySnapshotId, policyIds } = decision;
  return evidenceTransaction(db, data.tenantId, async (tx) => {
    const workload = await tx.workload.create({ data: { ...data, status: 'admitted' } });
    await appendEvidence(tx, {
      tenantId: workload.tenantId,
      eventType: 'workload.admit',
      actor,
      outcome: 'accepted',
      correlationId,
      authoritySnapshotId,
      policySnapshotId,
      details: {
        policy_ids: policyIds,
        action: 'workload.deploy',
        workload_id: workload.id,
        envelope_type: workload.envelopeType,
        image_ref: workload.imageRef,
        classification: workload.classification,
        jurisdiction: workload.jurisdiction,
      },
    });
    return workload;
  });
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
