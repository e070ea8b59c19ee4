import { EcsError, ErrorCode } from '../errors';
import { refuse } from './authorize';
import type { TenantFacts } from './plane-client';
import type { PlaneContext } from './plane-context';

/**
 * Governed actions of a suspended or deleted tenant are refused, with evidence, whatever
 * the policy baseline says.
 */
export async function assertTenantActive(
  context: PlaneContext,
  tenant: TenantFacts,
  governed: { action: string; eventType: string },
  snapshots: { authoritySnapshotId?: string; policySnapshotId?: string } = {},
): Promise<void> {
  if (tenant.status === 'active') return;
  throw await refuse(context, {
    tenantId: tenant.id,
    ...governed,
    ...snapshots,
    reasonClass: 'policy_denied',
    reasonCode: `tenant_${tenant.status}`,
    reason: `tenant ${tenant.id} is ${tenant.status}`,
    code: ErrorCode.PolicyDenied,
  });
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
