import type { Database } from '../../lib/db/database';
import type { RefusalThrottle } from '../../lib/evidence/refusal-throttle';
import type { MigrationExports, MigrationRequestContext } from '../../lib/migration/export-jobs';
import type { ExportJob } from './migration-export-jobs';
import type { SnapshotIds } from './migration-export-evidence';
import { completeCutover, completedRefusal, rollbackCutover, rolledBackRefusal } from './source-cutover';
import type { CutoverAnswer, CutoverEvent, CutoverRefusal } from './source-cutover';
import { notReadyRefusal, refuseCutover } from './source-cutover-refusal';
import { tenantState } from './tenant-export-source';

export interface SourceCutoverStepsOptions {
  db: Database;
  refusals?: RefusalThrottle;
  /** The job, once the caller is allowed to administer its tenant (404 and 403 otherwise). */
  find(context: MigrationRequestContext, id: string): Promise<ExportJob>;
  save(job: ExportJob): Promise<void>;
  /** Removes the job's package (and a partial one). */
  removePackage(job: ExportJob): Promise<void>;
}

/**
 * `complete` and `rollback` of tenant export jobs: the source's side of the cutover
 * (docs/migration.md, "Cutover on the source"). The job's status answers a repeat at once;
 * otherwise the tenant's chain decides (source-cutover.ts), and the status follows it.
 */
export function sourceCutoverSteps(options: SourceCutoverStepsOptions): Pick<MigrationExports, 'complete' | 'rollback'> {
  const { db } = options;

  const snapshotsOf = async (tenantId: string): Promise<SnapshotIds> => {
    const state = await tenantState(db, tenantId);
    return { authoritySnapshotId: state?.authority?.snapshotId, policySnapshotId: state?.policy?.snapshotId };
  };

  const refused =
    (context: MigrationRequestContext, job: ExportJob, eventType: CutoverEvent, snapshots: SnapshotIds) => (refusal: CutoverRefusal) =>
      refuseCutover(db, { context, status: job.status, eventType, snapshots, refusal, refusals: options.refusals });

  /** Makes the job's status say what the chain says (a step done by a retry, a crash or another process). */
  const follow = async (job: ExportJob, answer: CutoverAnswer): Promise<void> => {
    const { status } = job;
    if (!answer.mark || status.cutover === answer.cutover) return;
    Object.assign(status, {
      cutover: answer.cutover,
      cutover_at: answer.mark.at,
      cutover_evidence_pointer: answer.mark.pointer,
      ...(answer.cutover === 'completed' ? { migrated_to: answer.mark.migratedTo } : { package_url: null }),
    });
    if (answer.cutover === 'rolled_back') await options.removePackage(job);
    await options.save(job);
  };

  return {
    async complete(context, id, { migratedTo }) {
      const job = await options.find(context, id);
      const { status } = job;
      if (status.cutover === 'completed') return { ...status };
      const snapshots = await snapshotsOf(status.tenant_id);
      const refuse = refused(context, job, 'migration.complete', snapshots);
      if (status.cutover === 'rolled_back') throw await refuse(rolledBackRefusal(status));
      if (status.state !== 'completed') throw await refuse(notReadyRefusal(status, 'migration.complete'));
      const answer = await completeCutover(db, { context, status, snapshots, migratedTo });
      await follow(job, answer);
      if (answer.refusal) throw await refuse(answer.refusal);
      return { ...status };
    },
    async rollback(context, id, { reason }) {
      const job = await options.find(context, id);
      const { status } = job;
      if (status.cutover === 'rolled_back') {
        // A repeat removes the package again, should an earlier attempt have stopped before.
        await options.removePackage(job);
        return { ...status };
      }
      const snapshots = await snapshotsOf(status.tenant_id);
      const refuse = refused(context, job, 'migration.rollback', snapshots);
      if (status.cutover === 'completed') throw await refuse(completedRefusal(status, status.migrated_to));
      if (status.state === 'queued' || status.state === 'running') throw await refuse(notReadyRefusal(status, 'migration.rollback'));
      const answer = await rollbackCutover(db, { context, status, snapshots, ...(reason ? { reason } : {}) });
      await follow(job, answer);
      if (answer.refusal) throw await refuse(answer.refusal);
      return { ...status };
    },
  };
}
