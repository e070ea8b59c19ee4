import { mayPerform, withinTenant } from '../auth/caller';
import type { Action } from '../auth/permissions';
import { EcsError, ErrorCode } from '../errors';
import type { ErrorCode as ErrorCodeType } from '../errors';
import type { JsonObject } from '../evidence/canonical-json';
import { chainIdFor } from '../evidence/evidence-event';
import type { RefusalReasonClass } from '../evidence/evidence-event';
import { recordRefusal } from '../evidence/refusal';
import { actorOf } from '../auth/caller';
import type { Caller } from '../auth/caller';
import { safeText, textProblem } from '../input/unsafe-text';
import type { PlaneContext } from './plane-context';

/** What recording a refusal needs (a plane's context has it; so does the gateway's subscription server). */
export type RefusalContext = Pick<PlaneContext, 'db' | 'caller' | 'correlationId' | 'refusals'>;

export interface RefusalDetails {
  /** Tenant the action targeted; its chain receives the event when the tenant exists. */
  tenantId: string | undefined;
  action: string;
  eventType: string;
  reasonClass: RefusalReasonClass;
  reasonCode: string;
  reason: string;
  code?: ErrorCodeType;
  authoritySnapshotId?: string;
  policySnapshotId?: string;
  details?: JsonObject;
  /** Bound repeats through the context's refusal throttle (authority refusals). */
  throttled?: boolean;
}

/**
 * Records a refusal as evidence (in the target tenant's chain when that tenant has one,
 * otherwise in the platform chain) and returns the error to throw, with its pointer.
 */
export async function refuse(context: RefusalContext, refusal: RefusalDetails): Promise<EcsError> {
  let tenantId = refusal.tenantId;
  // A target that cannot be a tenant id (malformed text) has no chain; the event records it escaped.
  if (tenantId !== undefined && textProblem(tenantId, 'line')) tenantId = undefined;
  if (tenantId !== undefined) {
    const chain = await context.db.prisma.chainHead.findUnique({ where: { chainId: chainIdFor(tenantId) }, select: { chainId: true } });
    if (!chain) tenantId = undefined;
  }
  const event = {
    tenantId,
    eventType: refusal.eventType,
    actor: actorOf(context.caller),
    correlationId: context.correlationId,
    authoritySnapshotId: refusal.authoritySnapshotId,
    policySnapshotId: refusal.policySnapshotId,
    refusal: { reasonClass: refusal.reasonClass, reasonCode: refusal.reasonCode, subject: refusal.action, reason: refusal.reason },
    details: {
      ...(refusal.tenantId !== undefined && tenantId === undefined ? { target_tenant_id: refusal.tenantId } : {}),
      auth_method: context.caller.authMethod,
      ...refusal.details,
    },
  };
  const error = { code: refusal.code ?? ErrorCode.Forbidden, message: refusal.reason };
  if (refusal.throttled && context.refusals) {
    // Repeats of one refusal (same principal, target, action and reason) share an event per
    // window, and no chain takes more than the throttle's cap: nobody grows another tenant's
    // chain without bound.
    const source = `authority|${principalKey(context.caller)}|${refusal.action}|${refusal.reasonCode}`;
    try {
      const pointer = await context.refusals.record(source, event, context.refusals.perSource);
      return new EcsError(error.code, safeText(error.message), { evidencePointer: pointer });
    } catch (cause) {
      return new EcsError(ErrorCode.DependencyUnavailable, `${safeText(error.message)} (the refusal could not be recorded)`, {
        internal: cause,
      });
    }
  }
  return recordRefusal(context.db, { ...event, outcome: 'refused' }, error);
}

/** One principal: an API key, or an issuer and subject. */
function principalKey(caller: Caller): string {
  return caller.apiKeyId ? `key:${caller.apiKeyId}` : `sub:${caller.issuer ?? ''}|${caller.subject}`;
}

/**
 * Allows the caller to perform `action` on `tenantId`, or records the refusal (with
 * `details`, when given) and throws.
 */
export async function authorize(
  context: RefusalContext,
  action: Action,
  tenantId: string | undefined,
  details?: JsonObject,
): Promise<void> {
  const { caller } = context;
  const permitted = mayPerform(caller, action);
  if (permitted && withinTenant(caller, tenantId)) return;
  const byRole = caller.roles.length > 0 && mayPerform({ ...caller, scopes: undefined }, action);
  throw await refuse(context, {
    tenantId,
    action,
    eventType: 'authority.refusal',
    throttled: true,
    reasonClass: 'authority_missing_or_invalid',
    reasonCode: !permitted ? (byRole ? 'api_key_scope_missing' : 'role_not_permitted') : 'outside_tenant_scope',
    // Outside the caller's tenant the answer names no owner: a resource read or acted on by id
    // must not tell whose it is. The event, on the owner's chain, records who tried.
    reason: !permitted ? `${caller.subject} may not perform ${action}` : `${action}: not found or not allowed`,
    details: permitted && caller.tenantId !== undefined ? { caller_tenant_id: caller.tenantId, ...details } : details,
  });
}

/** True when the caller may see data of `tenantId` for `action` (no evidence: for filtering lists and joins). */
export function canSee(context: PlaneContext, action: Action, tenantId: string): boolean {
  return mayPerform(context.caller, action) && withinTenant(context.caller, tenantId);
}

export { EcsError };
