import { byKeys } from '../../../lib/db/by-keys';
import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { Tenant } from '../../../prisma/generated/client';
import { announceGovernanceChange } from '../../../lib/subgraph/governance-facts-cache';
import { tenantInactiveReason } from '../../../lib/subgraph/tenant-guard';
import { isUniqueViolation } from '../../../lib/db/unique-violation';

export type { Tenant };

export async function getTenant({ db, id }: { db: Database; id: string }): Promise<Tenant> {
  const tenant = await db.prisma.tenant.findUnique({ where: { id } });
  if (!tenant) throw new EcsError(ErrorCode.NotFound, `tenant ${id} not found`);
  return tenant;
}

/** Every column of `control_tenants`, named as the `Tenant` model names them. */
const TENANT_COLUMNS = `id, authority_binding AS "authorityBinding", jurisdiction,
  classification_ceiling AS "classificationCeiling", policy_baseline AS "policyBaseline", status,
  migrated_to AS "migratedTo", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * Tenants by id, for `tenant(id)` and `_entities` batches: one query per batch, in the order
 * asked. Read through the driver: every GraphQL read of a tenant comes here, and Prisma's
 * per-query work cost more than the query (the rows equal Prisma's, see plane-driver-reads.test.ts).
 */
export async function getTenantsByIds({ db, ids }: { db: Database; ids: readonly string[] }): Promise<Array<Tenant | null>> {
  const rows = await db.query<Tenant>(`SELECT ${TENANT_COLUMNS} FROM control_tenants WHERE id = ANY($1::text[])`, [[...ids]]);
  return byKeys(ids, rows, (row) => row.id);
}

/**
 * One page of tenants ordered by id, starting after `afterId`, optionally only `onlyId`;
 * fetches one extra row to know if more follow.
 */
export async function findTenants({
  db,
  first,
  afterId,
  onlyId,
}: {
  db: Database;
  first: number;
  afterId: string | undefined;
  onlyId?: string;
}): Promise<{ items: Tenant[]; hasMore: boolean }> {
  const rows = await db.prisma.tenant.findMany({
    where: {
      ...(afterId === undefined ? {} : { id: { gt: afterId } }),
      ...(onlyId === undefined ? {} : { AND: [{ id: onlyId }] }),
    },
    orderBy: { id: 'asc' },
    take: first + 1,
  });
  return { items: rows.slice(0, first), hasMore: rows.length > first };
}

export interface CreateTenantData {
  id: string;
  authorityBinding: string;
  jurisdiction: string;
  classificationCeiling: string;
  policyBaseline: string;
}

/** Creates a tenant and its `tenant.create` evidence in one transaction. */
export async function createTenant({
  db,
  data,
  actor,
  correlationId,
  authoritySnapshotId,
  policySnapshotId,
}: {
  db: Database;
  data: CreateTenantData;
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
  policySnapshotId: string;
}): Promise<Tenant> {
  try {
    return await evidenceTransaction(db, data.id, async (tx) => {
      const tenant = await tx.tenant.create({ data: { ...data, status: 'active' } });
      await appendEvidence(tx, {
        tenantId: tenant.id,
        eventType: 'tenant.create',
        actor,
        outcome: 'accepted',
        correlationId,
        authoritySnapshotId,
        policySnapshotId,
        details: {
          action: 'tenant.create',
          resource_id: tenant.id,
          jurisdiction: tenant.jurisdiction,
          classification_ceiling: tenant.classificationCeiling,
          policy_baseline: tenant.policyBaseline,
          authority_binding: tenant.authorityBinding,
        },
      });
      return tenant;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new EcsError(ErrorCode.Conflict, `tenant ${data.id} already exists`, { field: 'id' });
    }
    throw error;
  }
}

/** The snapshot of a tenant recorded in lifecycle evidence. */
function tenantSnapshot(tenant: Tenant): Record<string, string> {
  return {
    id: tenant.id,
    authority_binding: tenant.authorityBinding,
    jurisdiction: tenant.jurisdiction,
    classification_ceiling: tenant.classificationCeiling,
    policy_baseline: tenant.policyBaseline,
    status: tenant.status,
  };
}

/** A change asked of a deleted tenant: deletion is final (the tenant keeps only its evidence). */
export class TenantDeletedError extends Error {
  constructor(readonly tenantId: string) {
    super(`tenant ${tenantId} is deleted`);
  }
}

export type TenantChange = Partial<
  Pick<Tenant, 'authorityBinding' | 'jurisdiction' | 'classificationCeiling' | 'policyBaseline' | 'status'>
>;

/**
 * Changes a tenant (partially) with `eventType` evidence holding the before and after
 * snapshots, in one transaction. The row is locked while changing so concurrent changes
 * are recorded in order.
 * @throws TenantDeletedError when the tenant is deleted (nothing is changed)
 */
export async function changeTenant({
  db,
  id,
  change,
  eventType,
  action,
  actor,
  correlationId,
  authoritySnapshotId,
  policySnapshotId,
}: {
  db: Database;
  id: string;
  change: TenantChange;
  eventType: string;
  action: string;
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
  policySnapshotId: string | undefined;
}): Promise<Tenant> {
  return evidenceTransaction(db, id, async (tx) => {
    const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM control_tenants WHERE id = ${id} FOR UPDATE`;
    if (locked.length === 0) throw new EcsError(ErrorCode.NotFound, `tenant ${id} not found`);
    const before = await tx.tenant.findUniqueOrThrow({ where: { id } });
    // Checked under the row lock too, so a change racing the deletion cannot revive the tenant.
    if (before.status === 'deleted') throw new TenantDeletedError(id);
    // An import or a migration that committed since the caller looked: only the migration moves it now.
    if (before.status === 'importing' || before.status === 'migrated') throw new EcsError(ErrorCode.Conflict, tenantInactiveReason(before));
    const after = await tx.tenant.update({ where: { id }, data: change });
    await appendEvidence(tx, {
      tenantId: id,
      eventType,
      actor,
      outcome: 'accepted',
      correlationId,
      authoritySnapshotId,
      policySnapshotId,
      details: { action, resource_id: id, before: tenantSnapshot(before), after: tenantSnapshot(after) },
    });
    return after;
  }).finally(() => announceGovernanceChange(db));
}
