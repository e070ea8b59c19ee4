import type { Database } from '../../lib/db/database';
import { ErrorCode } from '../../lib/errors';
import type { EcsError } from '../../lib/errors';
import type { RefusalThrottle } from '../../lib/evidence/refusal-throttle';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';
import { refuse } from '../../lib/subgraph/authorize';

/** Records a `migration.import.refuse` in the platform chain and returns the error (with its pointer) to throw. */
export function refuseImport(
  db: Database,
  context: MigrationRequestContext,
  { code, reasonCode, reason, refusals }: { code: ErrorCode; reasonCode: string; reason: string; refusals?: RefusalThrottle },
): Promise<EcsError> {
  return refuse(
    { db, caller: context.caller, correlationId: context.correlationId, refusals },
    {
      tenantId: undefined,
      action: 'migration.import',
      eventType: 'migration.import.refuse',
      reasonClass: code === ErrorCode.Forbidden ? 'authority_missing_or_invalid' : 'evidence_precondition_failed',
      reasonCode,
      reason,
      code,
      // Authorization refusals repeat per principal at most once a window (the refusal throttle).
      throttled: refusals !== undefined,
    },
  );
}

/**
 * Lets a platform-wide administrator import (an import may create any tenant), or refuses
 * with evidence (403). Tenant administrators, platform administrators of one tenant and API
 * keys may not.
 */
export async function assertMayImport(db: Database, context: MigrationRequestContext, refusals?: RefusalThrottle): Promise<void> {
  const { caller } = context;
  if (caller.scopes === undefined && caller.roles.includes('platform-admin') && caller.tenantId === undefined) return;
  const reasonCode =
    caller.scopes !== undefined
      ? 'api_key_not_permitted'
      : caller.roles.includes('platform-admin')
        ? 'outside_tenant_scope'
        : 'role_not_permitted';
  throw await refuseImport(db, context, {
    code: ErrorCode.Forbidden,
    reasonCode,
    reason: `${caller.subject} may not import a tenant (platform administrators only)`,
    refusals,
  });
}
