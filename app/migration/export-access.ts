import type { Caller } from '../../lib/auth/caller';
import type { Database } from '../../lib/db/database';
import { ErrorCode } from '../../lib/errors';
import type { RefusalThrottle } from '../../lib/evidence/refusal-throttle';
import { refuse } from '../../lib/subgraph/authorize';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';

/** Platform administrators (platform-wide, or of this tenant) and the tenant's own administrators. */
export function administers(caller: Caller, tenantId: string): boolean {
  if (caller.scopes !== undefined) return false;
  if (caller.roles.includes('platform-admin')) return caller.tenantId === undefined || caller.tenantId === tenantId;
  return caller.roles.includes('tenant-admin') && caller.tenantId === tenantId;
}

/**
 * Lets a tenant's administrator (or a platform administrator) export it, or records the
 * refusal (`migration.export.refuse`, on the tenant's chain when it has one) and throws a
 * 403 with its evidence pointer (repeats bounded by the refusal throttle). API keys cannot export a tenant: an export carries all of it.
 */
export async function assertAdministers(
  db: Database,
  context: MigrationRequestContext,
  tenantId: string,
  refusals?: RefusalThrottle,
): Promise<void> {
  if (administers(context.caller, tenantId)) return;
  const admin = context.caller.roles.includes('platform-admin') || context.caller.roles.includes('tenant-admin');
  throw await refuse(
    { db, caller: context.caller, correlationId: context.correlationId, refusals },
    {
      tenantId,
      action: 'migration.export',
      eventType: 'migration.export.refuse',
      // Repeats share an event per window: nobody grows another tenant's chain without bound.
      throttled: true,
      reasonClass: 'authority_missing_or_invalid',
      reasonCode: context.caller.scopes !== undefined ? 'api_key_not_permitted' : admin ? 'outside_tenant_scope' : 'role_not_permitted',
      reason: admin ? 'migration.export: not found or not allowed' : `${context.caller.subject} may not export a tenant`,
    },
  );
}

/** One principal: an API key, or an issuer and subject. */
export const principalOf = (caller: Caller): string =>
  caller.apiKeyId ? `key:${caller.apiKeyId}` : `sub:${caller.issuer ?? ''}|${caller.subject}`;

/** Refuses (429, with evidence) a principal who has `limit` tenant exports queued or running already. */
export async function refuseOverLimit(db: Database, context: MigrationRequestContext, tenantId: string, limit: number): Promise<never> {
  throw await refuse(
    { db, caller: context.caller, correlationId: context.correlationId },
    {
      tenantId,
      action: 'migration.export',
      eventType: 'migration.export.refuse',
      reasonClass: 'policy_denied',
      reasonCode: 'export_limit_reached',
      reason: `${limit} tenant exports of this principal are queued or running; retry when one has finished`,
      code: ErrorCode.RateLimited,
    },
  );
}
