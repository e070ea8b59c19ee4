import { EcsError, ErrorCode } from '../errors';
import { refuse } from './authorize';
import type { TenantFacts } from './plane-client';
import type { PlaneContext } from './plane-context';

/**
 * Governed actions of a suspended, deleted or still importing tenant are refused, with
 * evidence, whatever the policy baseline says; so are those of a tenant that migrated to
 * another deployment, whose refusal names where it went. `readable` also lets a migrated
 * tenant through: it stays readable here (reads and evidence exports), never writable.
 */
export async function assertTenantActive(
  context: PlaneContext,
  tenant: TenantFacts,
  governed: { action: string; eventType: string },
  snapshots: { authoritySnapshotId?: string; policySnapshotId?: string } = {},
  readable = false,
): Promise<void> {
  if (tenant.status === 'active' || (readable && tenant.status === 'migrated')) return;
  throw await refuse(context, {
    tenantId: tenant.id,
    ...governed,
    ...snapshots,
    reasonClass: 'policy_denied',
    reasonCode: `tenant_${tenant.status}`,
    reason: tenantInactiveReason(tenant),
    code: ErrorCode.PolicyDenied,
    ...(tenant.migratedTo ? { details: { migrated_to: tenant.migratedTo } } : {}),
  });
}

/** Why a tenant that is not active refuses governed actions. */
export function tenantInactiveReason(tenant: Pick<TenantFacts, 'id' | 'status' | 'migratedTo'>): string {
  if (tenant.status === 'migrated')
    return `tenant ${tenant.id} has migrated to ${tenant.migratedTo ?? 'another deployment'}; it is read-only here`;
  if (tenant.status === 'importing') return `tenant ${tenant.id} is being imported; it acts once its import is activated`;
  return `tenant ${tenant.id} is ${tenant.status}`;
}

/** The tenant's facts from the control plane, failing closed (with evidence) when it cannot answer. */
export async function tenantFacts(
  context: PlaneContext,
  tenantId: string,
  governed: { action: string; eventType: string },
): Promise<TenantFacts> {
  let tenant: TenantFacts | null;
  try {
    tenant = await context.planes.tenant(tenantId);
  } catch {
    throw await refuse(context, {
      tenantId,
      ...governed,
      reasonClass: 'dependency_unavailable_fail_closed',
      reasonCode: 'control_plane_unavailable',
      reason: 'the tenant could not be checked; the action is refused',
      code: ErrorCode.DependencyUnavailable,
    });
  }
  if (!tenant) throw new EcsError(ErrorCode.NotFound, `tenant ${tenantId} not found`, { field: 'tenantId' });
  return tenant;
}
