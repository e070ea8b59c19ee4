import { actorOf } from '../../lib/auth/caller';
import type { Database } from '../../lib/db/database';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import type { Outcome, Refusal } from '../../lib/evidence/evidence-event';
import { recordEvidence } from '../../lib/evidence/ledger';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';

/** The `migration.export.*` events of docs/evidence-catalogue.md. */
export type MigrationExportEvent =
  | 'migration.export.plan'
  | 'migration.export.start'
  | 'migration.export.complete'
  | 'migration.export.fail'
  | 'migration.export.refuse'
  | 'migration.export.transfer';

export interface SnapshotIds {
  authoritySnapshotId: string | undefined;
  policySnapshotId: string | undefined;
}

/** Appends one migration export event to the tenant's chain; returns its evidence pointer. */
export async function recordMigrationEvent(
  db: Database,
  {
    context,
    tenantId,
    eventType,
    snapshots,
    details,
    outcome = 'accepted',
    refusal,
  }: {
    context: MigrationRequestContext;
    tenantId: string;
    eventType: MigrationExportEvent;
    snapshots: SnapshotIds;
    details: JsonObject;
    outcome?: Outcome;
    refusal?: Refusal;
  },
): Promise<string> {
  const [event] = await recordEvidence(db, [
    {
      tenantId,
      eventType,
      actor: actorOf(context.caller),
      outcome,
      correlationId: context.correlationId,
      authoritySnapshotId: snapshots.authoritySnapshotId,
      policySnapshotId: snapshots.policySnapshotId,
      details,
      ...(refusal ? { refusal } : {}),
    },
  ]);
  return event!.evidence_pointer;
}
