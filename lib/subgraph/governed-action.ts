import type { Action } from '../auth/permissions';
import { ErrorCode } from '../errors';
import { authorize, refuse } from './authorize';
import type { TenantFacts } from './plane-client';
import type { PlaneContext } from './plane-context';
import { assertTenantActive, tenantFacts } from './tenant-guard';

/**
 * Checks that the authority binding in force covers a governed action now (asking the
 * identity plane) and returns its snapshot id for the evidence. Refuses with evidence
 * when it does not, and fails closed when the identity plane cannot answer.
 */
export async function assertAuthority(
  context: PlaneContext,
  governed: { bindingId: string; action: string; tenantId: string | undefined; eventType: string },
): Promise<string> {
  let decision;
  try {
    decision = await context.planes.decideAuthority(governed.bindingId, governed.action);
  } catch {
    throw await refuse(context, {
      ...governed,
      reasonClass: 'dependency_unavailable_fail_closed',
      reasonCode: 'authority_unverifiable',
      reason: 'the authority binding could not be checked; the action is refused',
      code: ErrorCode.DependencyUnavailable,
    });
  }
  if (decision.allowed && decision.snapshotId) return decision.snapshotId;
  throw await refuse(context, {
    ...governed,
    reasonClass: 'authority_missing_or_invalid',
    reasonCode: decision.reasonCode ?? 'authority_refused',
    reason: decision.reason ?? `authority binding ${governed.bindingId} does not cover ${governed.action}`,
    authoritySnapshotId: decision.snapshotId ?? undefined,
    code: decision.reasonCode === 'authority_binding_unknown' ? ErrorCode.MissingAuthority : ErrorCode.Forbidden,
    details: { authority_binding: governed.bindingId },
  });
}

/** Only the internal service identity (planes, the gateway, the orchestrator) may call this. */
export async function assertService(context: PlaneContext, action: string): Promise<void> {
  if (context.caller.roles.includes('service')) return;
  throw await refuse(context, {
    tenantId: context.caller.tenantId,
    action,
    eventType: 'authority.refusal',
    reasonClass: 'authority_missing_or_invalid',
    reasonCode: 'service_identity_required',
    reason: `${action} is only for service identities`,
  });
}

export interface GovernActionOptions {
  /** The governed action as evidence names it (`refusal_subject`, `action`), e.g. `storage.write`. */
  action: string;
  /** Event type of the action's evidence, and of its refusals. */
  eventType: string;
  tenantId: string;
  /** The caller's permission to check first (absent: the caller was authorized already). */
  permission?: Action;
  /** Read the tenant's policy snapshot in force for the evidence (fails closed, with evidence, when it cannot be read). */
  policy?: boolean;
  /**
   * Refuse (with evidence) when the tenant is not active (suspended, deleted, importing,
   * migrated); `readable`: a read, also allowed for a tenant that migrated away. @default true
   */
  requireActive?: boolean | 'readable';
}

/** A governed action that passed the preamble, with the snapshots its evidence names. */
export interface GovernedTenant {
  tenant: TenantFacts;
  authoritySnapshotId: string;
  policySnapshotId?: string;
}

/**
 * The preamble of every governed action, in one place: the caller's permission on the
 * tenant, the tenant's facts from the control plane, the authority binding in force, the
 * policy snapshot in force (when asked), and the tenant being active. Each refusal is
 * evidenced on the tenant's chain with the snapshots known by then; a plane that cannot
 * answer refuses the action (fail closed).
 */
export async function governAction(context: PlaneContext, options: GovernActionOptions): Promise<GovernedTenant> {
  if (options.permission) await authorize(context, options.permission, options.tenantId);
  const governed = { action: options.action, eventType: options.eventType };
  const tenant = await tenantFacts(context, options.tenantId, governed);
  // The policy in force is asked for while the identity plane decides on the authority (both
  // need only the tenant's facts); an authority refusal still comes first.
  const policy = options.policy
    ? context.planes.currentPolicy(tenant.policyBaseline).then(
        (current) => ({ read: true as const, id: current?.id }),
        () => ({ read: false as const }),
      )
    : undefined;
  const authoritySnapshotId = await assertAuthority(context, { bindingId: tenant.authorityBinding, tenantId: tenant.id, ...governed });
  let policySnapshotId: string | undefined;
  if (policy) {
    const current = await policy;
    if (current.read) {
      policySnapshotId = current.id;
    } else {
      throw await refuse(context, {
        tenantId: tenant.id,
        ...governed,
        authoritySnapshotId,
        reasonClass: 'dependency_unavailable_fail_closed',
        reasonCode: 'policy_unavailable',
        reason: 'the policy in force could not be read; the action is refused',
        code: ErrorCode.DependencyUnavailable,
      });
    }
  }
  const requirement = options.requireActive ?? true;
  if (requirement)
    await assertTenantActive(context, tenant, governed, { authoritySnapshotId, policySnapshotId }, requirement === 'readable');
  return { tenant, authoritySnapshotId, ...(policySnapshotId ? { policySnapshotId } : {}) };
}
