import { actorOf } from '../../lib/auth/caller';
import type { Database } from '../../lib/db/database';
import { EcsError, ErrorCode } from '../../lib/errors';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { appendEvidence, evidenceTransaction } from '../../lib/evidence/ledger';
import type { LedgerTransaction } from '../../lib/evidence/ledger';
import { toStoredEvent } from '../../lib/evidence/stored-event';
import type { MigrationCutover, MigrationExportStatus, MigrationRequestContext } from '../../lib/migration/export-jobs';
import { announceGovernanceChange } from '../../lib/subgraph/governance-facts-cache';
import { tenantInactiveReason } from '../../lib/subgraph/tenant-guard';
import type { SnapshotIds } from './migration-export-evidence';

/** The source's cutover events (docs/evidence-catalogue.md). */
export type CutoverEvent = 'migration.complete' | 'migration.rollback';

/** The accepted event that decided an export's cutover. */
export interface CutoverMark {
  at: string;
  pointer: string;
  migratedTo: string | null;
}

/** Why a cutover step is refused (409), for its `refused` event. */
export interface CutoverRefusal {
  reasonCode: string;
  reason: string;
  details?: JsonObject;
}

/** What the tenant's chain says of the export's cutover once the step ran, and the refusal if it did not. */
export interface CutoverAnswer {
  cutover: MigrationCutover;
  mark?: CutoverMark;
  refusal?: CutoverRefusal;
}

interface CutoverStep {
  context: MigrationRequestContext;
  status: MigrationExportStatus;
  snapshots: SnapshotIds;
}

/** A completed cutover cannot be undone here: the tenant lives on the target now. */
export const completedRefusal = (status: MigrationExportStatus, migratedTo: string | null): CutoverRefusal => ({
  reasonCode: 'cutover_completed',
  reason: `migration export ${status.id} is completed: tenant ${status.tenant_id} has migrated to ${migratedTo ?? 'another deployment'}; a completed cutover cannot be rolled back (migrate the tenant back instead)`,
  ...(migratedTo ? { details: { migrated_to: migratedTo } } : {}),
});

export const rolledBackRefusal = (status: MigrationExportStatus): CutoverRefusal => ({
  reasonCode: 'cutover_rolled_back',
  reason: `migration export ${status.id} was rolled back; export the tenant again to migrate it`,
});

/**
 * Completes the cutover on the source, in one transaction under the tenant row's lock: the
 * tenant becomes `migrated` (read-only here, pointing at `migratedTo`) with its
 * `migration.complete` event. The chain decides, so a retry after a crash (or from another
 * process) finds the step done and adds nothing; a rolled-back export, or a tenant that is
 * neither active nor suspended, is refused. Plane caches forget the tenant once committed.
 */
export async function completeCutover(db: Database, step: CutoverStep & { migratedTo: string }): Promise<CutoverAnswer> {
  const { status, migratedTo } = step;
  let changed = false;
  const answer = await evidenceTransaction(db, status.tenant_id, async (tx): Promise<CutoverAnswer> => {
    const tenant = await lockTenant(tx, status.tenant_id);
    const marks = await cutoverMarks(tx, status);
    if (marks['migration.complete']) return { cutover: 'completed', mark: marks['migration.complete'] };
    if (marks['migration.rollback'])
      return { cutover: 'rolled_back', mark: marks['migration.rollback'], refusal: rolledBackRefusal(status) };
    if (tenant.status !== 'active' && tenant.status !== 'suspended') {
      const reason = tenantInactiveReason({ id: tenant.id, status: tenant.status, migratedTo: tenant.migrated_to });
      return { cutover: 'pending', refusal: { reasonCode: `tenant_${tenant.status}`, reason: `${reason}; it cannot migrate` } };
    }
    await tx.tenant.update({ where: { id: tenant.id }, data: { status: 'migrated', migratedTo } });
    const event = await appendCutoverEvent(tx, step, 'migration.complete', {
      scenario: status.scenario,
      package_digest: status.package_digest,
      manifest_digest: status.manifest_digest,
      migrated_to: migratedTo,
      previous_status: tenant.status,
    });
    changed = true;
    return { cutover: 'completed', mark: { ...event, migratedTo } };
  });
  if (changed) announceGovernanceChange(db);
  return answer;
}

/**
 * Rolls the migration back on the source before completion: a `migration.rollback` event
 * (side `source`), under the tenant row's lock so that it cannot cross a completion. The
 * tenant is left as it is: it never stopped being served here. Idempotent like completion.
 */
export async function rollbackCutover(db: Database, step: CutoverStep & { reason?: string }): Promise<CutoverAnswer> {
  const { status } = step;
  return evidenceTransaction(db, status.tenant_id, async (tx): Promise<CutoverAnswer> => {
    await lockTenant(tx, status.tenant_id);
    const marks = await cutoverMarks(tx, status);
    if (marks['migration.rollback']) return { cutover: 'rolled_back', mark: marks['migration.rollback'] };
    const completed = marks['migration.complete'];
    if (completed) return { cutover: 'completed', mark: completed, refusal: completedRefusal(status, completed.migratedTo) };
    const event = await appendCutoverEvent(tx, step, 'migration.rollback', {
      scenario: status.scenario,
      side: 'source',
      ...(step.reason ? { reason: step.reason } : {}),
    });
    return { cutover: 'rolled_back', mark: { ...event, migratedTo: null } };
  });
}

async function lockTenant(tx: LedgerTransaction, id: string): Promise<{ id: string; status: string; migrated_to: string | null }> {
  const [tenant] = await tx.$queryRaw<Array<{ id: string; status: string; migrated_to: string | null }>>`
    SELECT id, status, migrated_to FROM control_tenants WHERE id = ${id} FOR UPDATE`;
  if (!tenant) throw new EcsError(ErrorCode.NotFound, `tenant ${id} not found`);
  return tenant;
}

/** A slack for clocks: the export's events are never older than its request. */
const CLOCK_SLACK_MS = 60_000;

/** The accepted cutover events of this export in the tenant's chain (its events since the request). */
async function cutoverMarks(tx: LedgerTransaction, status: MigrationExportStatus): Promise<Partial<Record<CutoverEvent, CutoverMark>>> {
  const rows = await tx.evidenceEvent.findMany({
    where: {
      tenantId: status.tenant_id,
      occurredAt: { gte: new Date(Date.parse(status.requested_at) - CLOCK_SLACK_MS) },
      eventType: { in: ['migration.complete', 'migration.rollback'] },
      outcome: 'accepted',
    },
    select: { canonical: true },
    orderBy: { occurredAt: 'asc' },
  });
  const marks: Partial<Record<CutoverEvent, CutoverMark>> = {};
  for (const row of rows) {
    const { envelope, details } = toStoredEvent(row);
    if (details.migration_export_id !== status.id) continue;
    const migratedTo = typeof details.migrated_to === 'string' ? details.migrated_to : null;
    marks[envelope.event_type as CutoverEvent] ??= { at: envelope.occurred_at, pointer: envelope.evidence_pointer, migratedTo };
  }
  return marks;
}

async function appendCutoverEvent(
  tx: LedgerTransaction,
  { context, status, snapshots }: CutoverStep,
  eventType: CutoverEvent,
  details: JsonObject,
): Promise<{ at: string; pointer: string }> {
  const event = await appendEvidence(tx, {
    tenantId: status.tenant_id,
    eventType,
    actor: actorOf(context.caller),
    outcome: 'accepted',
    correlationId: context.correlationId,
    authoritySnapshotId: snapshots.authoritySnapshotId,
    policySnapshotId: snapshots.policySnapshotId,
    details: { migration_export_id: status.id, ...details },
  });
  return { at: event.occurred_at, pointer: event.evidence_pointer };
}
