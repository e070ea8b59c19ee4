import type { Database } from '../../lib/db/database';
import { EcsError, ErrorCode } from '../../lib/errors';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';
import { MIGRATION_SCENARIOS } from '../../lib/migration/package-manifest';
import { recordMigrationEvent } from './migration-export-evidence';
import type { SnapshotIds } from './migration-export-evidence';

/** WS6 scenarios this service cannot export, with the alternative it declares. */
const UNSUPPORTED: Record<string, { reason: string; alternative: string }> = {
  vm: {
    reason: 'this service holds no VM disk images or vTPM state to export',
    alternative: 'full (workload definitions, data and evidence) or evidence-only',
  },
  container: {
    reason: 'this service holds no container images or volumes, only workload definitions',
    alternative: 'full (workload definitions with their image references in the dependency manifest)',
  },
};

/**
 * Refuses a scenario that cannot be exported, with a `migration.export.refuse` event in the
 * tenant's chain naming the alternative; the error (400) carries its evidence pointer.
 */
export async function refuseScenario(
  db: Database,
  {
    context,
    tenantId,
    scenario,
    snapshots,
  }: { context: MigrationRequestContext; tenantId: string; scenario: string; snapshots: SnapshotIds },
): Promise<EcsError> {
  const known = UNSUPPORTED[scenario];
  const reason = known?.reason ?? `unknown scenario (one of ${MIGRATION_SCENARIOS.join(', ')})`;
  const alternative = known?.alternative ?? MIGRATION_SCENARIOS.join(', ');
  const pointer = await recordMigrationEvent(db, {
    context,
    tenantId,
    eventType: 'migration.export.refuse',
    snapshots,
    outcome: 'refused',
    refusal: { reasonClass: 'evidence_precondition_failed', reasonCode: 'scenario_not_supported', subject: 'migration.export', reason },
    details: { scenario: scenario.slice(0, 64), alternative },
  });
  return new EcsError(ErrorCode.ValidationFailed, `scenario ${scenario.slice(0, 64)}: ${reason}; alternative: ${alternative}`, {
    evidencePointer: pointer,
    field: 'scenario',
  });
}
