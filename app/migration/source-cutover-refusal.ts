import type { Database } from '../../lib/db/database';
import { ErrorCode } from '../../lib/errors';
import type { EcsError } from '../../lib/errors';
import type { RefusalThrottle } from '../../lib/evidence/refusal-throttle';
import type { MigrationExportStatus, MigrationRequestContext } from '../../lib/migration/export-jobs';
import { refuse } from '../../lib/subgraph/authorize';
import type { SnapshotIds } from './migration-export-evidence';
import type { CutoverEvent, CutoverRefusal } from './source-cutover';

/** A cutover step asked of an export that is not ready for it: neither completed nor rolled back yet. */
export const notReadyRefusal = (status: MigrationExportStatus, eventType: CutoverEvent): CutoverRefusal =>
  eventType === 'migration.complete'
    ? {
        reasonCode: 'export_not_completed',
        reason: `migration export ${status.id} is ${status.state}; only a completed export can complete a migration`,
      }
    : {
        reasonCode: 'export_running',
        reason: `migration export ${status.id} is ${status.state}; roll it back once it has completed or failed`,
      };

/**
 * Refuses a cutover step that the export's state does not allow: a `refused` event of the
 * step in the tenant's chain, and the 409 to throw, carrying its evidence pointer.
 */
export function refuseCutover(
  db: Database,
  {
    context,
    status,
    eventType,
    snapshots,
    refusal,
    refusals,
  }: {
    context: MigrationRequestContext;
    status: MigrationExportStatus;
    eventType: CutoverEvent;
    snapshots: SnapshotIds;
    refusal: CutoverRefusal;
    refusals?: RefusalThrottle;
  },
): Promise<EcsError> {
  return refuse(
    { db, caller: context.caller, correlationId: context.correlationId, refusals },
    {
      tenantId: status.tenant_id,
      action: eventType,
      eventType,
      reasonClass: 'policy_denied',
      reasonCode: refusal.reasonCode,
      reason: refusal.reason,
      code: ErrorCode.Conflict,
      ...snapshots,
      details: { migration_export_id: status.id, ...refusal.details },
    },
  );
}
