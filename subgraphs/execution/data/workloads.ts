import type { Database } from '../../../lib/db/database';
import { appendEvidence } from '../../../lib/evidence/ledger';
import type { Workload } from '../../../prisma/generated/client';

export type { Workload };

/** Workloads by id, for `_entities` batches: one query per batch, in the order asked. */
export async function getWorkloadsByIds({
  db,
  ids,
}: {
  db: Database;
  ids: readonly string[];
}): Promise<Array<Workload | null>> {
  const rows = await db.prisma.workload.findMany({ where: { id: { in: [...ids] } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}

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
  const ranked = await db.prisma.$queryRaw<Array<{ id: string }>>`
    SELECT id FROM (
      SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY created_at DESC, id DESC) AS rank
      FROM execution_workloads WHERE tenant_id = ANY(${[...tenantIds]})
    ) AS ranked WHERE rank <= ${first}`;
  const rows = await db.prisma.workload.findMany({
    where: { id: { in: ranked.map((row) => row.id) } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  return tenantIds.map((tenantId) => rows.filter((row) => row.tenantId === tenantId));
}

export interface CreateWorkloadData {
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
}: {
  db: Database;
  data: CreateWorkloadData;
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
}): Promise<Workload> {
  return db.prisma.$transaction(async (tx) => {
    const workload = await tx.workload.create({ data: { ...data, status: 'admitted' } });
    await appendEvidence(tx, {
      tenantId: workload.tenantId,
      eventType: 'workload.admit',
      actor,
      outcome: 'accepted',
      correlationId,
      authoritySnapshotId,
      details: {
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
