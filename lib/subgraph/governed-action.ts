import { ErrorCode } from '../errors';
import { refuse } from './authorize';
import type { PlaneContext } from './plane-context';

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
