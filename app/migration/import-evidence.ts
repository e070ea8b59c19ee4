import { actorOf } from '../../lib/auth/caller';
import type { Database } from '../../lib/db/database';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import type { RefusalReasonClass } from '../../lib/evidence/evidence-event';
import { recordEvidence } from '../../lib/evidence/ledger';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';
import type { ImportGate, ImportGateName, ImportReport } from '../../lib/migration/import-report';

/** The refusal class of an import refused at `gate` (docs/evidence/refusal-semantics.md). */
const REASON_CLASS: Record<ImportGateName, RefusalReasonClass> = {
  signature: 'evidence_precondition_failed',
  integrity: 'evidence_precondition_failed',
  evidence_bundle: 'evidence_precondition_failed',
  jurisdiction: 'jurisdiction_denied',
  classification: 'policy_denied',
  policy_baseline: 'policy_denied',
  authority_binding: 'authority_missing_or_invalid',
  id_clash: 'policy_denied',
};

/**
 * Appends the `migration.import.validate` event of one import to the platform chain (the
 * tenant has no chain on the target yet): accepted, or refused at its first failed gate with
 * every failed gate in `failed_gates`. Returns its evidence pointer.
 */
export async function recordImportValidation(
  db: Database,
  {
    context,
    gates,
    snapshots,
    details,
  }: {
    context: MigrationRequestContext;
    gates: ImportGate[];
    snapshots: { authoritySnapshotId: string | undefined; policySnapshotId: string | undefined };
    details: JsonObject;
  },
): Promise<string> {
  const failed = gates.filter((gate) => gate.result === 'fail');
  const first = failed[0];
  const [event] = await recordEvidence(db, [
    {
      tenantId: undefined,
      eventType: 'migration.import.validate',
      actor: actorOf(context.caller),
      outcome: first ? 'refused' : 'accepted',
      correlationId: context.correlationId,
      ...snapshots,
      ...(first
        ? {
            refusal: {
              reasonClass: REASON_CLASS[first.gate],
              reasonCode: `${first.gate}_gate_failed`,
              subject: 'migration.import',
              reason: first.reason.slice(0, 500),
            },
          }
        : {}),
      details: { ...details, failed_gates: failed.map((gate) => ({ gate: gate.gate, reason: gate.reason.slice(0, 500) })) },
    },
  ]);
  return event!.evidence_pointer;
}

/**
 * The `migration.rollback` of an import that was validated but made nothing here (its
 * materialisation failed or never ran): in the platform chain, like its validation.
 */
export async function recordValidatedRollback(
  db: Database,
  context: MigrationRequestContext,
  report: ImportReport,
  reason: string | undefined,
): Promise<{ evidencePointer: string; rolledBackAt: string }> {
  const [event] = await recordEvidence(db, [
    {
      tenantId: undefined,
      eventType: 'migration.rollback',
      actor: actorOf(context.caller),
      outcome: 'accepted',
      correlationId: context.correlationId,
      details: {
        import_id: report.import_id,
        side: 'target',
        source_tenant_id: report.source_tenant_id,
        tenant_status_before: null,
        ...(reason ? { reason } : {}),
      },
    },
  ]);
  return { evidencePointer: event!.evidence_pointer, rolledBackAt: event!.occurred_at };
}
