/**
 * Tenant export jobs of one gateway process: a request is evidenced and queued, a worker
 * (one package at a time per process) writes the package to `<dataDir>/migration-exports/`
 * and evidences its completion or failure; the download streams that file. Each status is
 * saved beside it (`<id>.json`, export-job-store.ts) at every change, so a restart still
 * answers a job and its cutover; a job that was queued or running then answers `failed`
 * (interrupted). Jobs run in the process that accepted them: another replica on another
 * data directory does not know them.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import type { Database } from '../../lib/db/database';
import { sha256Digest } from '../../lib/evidence/canonical-json';
import { EcsError, ErrorCode } from '../../lib/errors';
import type { RefusalThrottle } from '../../lib/evidence/refusal-throttle';
import type { Logger } from '../../lib/logger';
import { queuedStatus } from '../../lib/migration/export-jobs';
import type { MigrationExportStatus, MigrationExports, MigrationRequestContext } from '../../lib/migration/export-jobs';
import { isMigrationScenario } from '../../lib/migration/package-manifest';
import type { MigrationScenario } from '../../lib/migration/package-manifest';
import { assertAdministers, principalOf, refuseOverLimit } from './export-access';
import { ExportJobStore } from './export-job-store';
import { recordMigrationEvent } from './migration-export-evidence';
import type { SnapshotIds } from './migration-export-evidence';
import { refuseScenario } from './scenario-refusal';
import { sourceCutoverSteps } from './source-cutover-steps';
import { writePackageFile } from './package-file';
import { tenantExportSource, tenantState } from './tenant-export-source';

export interface MigrationExportJobsOptions {
  db: Database;
  signer: BundleSigner;
  providerId: string;
  dataDir: string;
  blobDir: string;
  /** Tenant exports one principal may have queued or running at once (`EXPORTS_PER_PRINCIPAL`). */
  perPrincipal: number;
  /** Bounds repeated authorization refusals of one principal (absent: each is an event). */
  refusals?: RefusalThrottle;
  log: Logger;
}

/** A job this process knows: one it accepted, or one read back from its saved status (no principal). */
export interface ExportJob {
  status: MigrationExportStatus;
  /** The package, `<id>.tar.gz` (written through `.partial`). */
  file: string;
  principal?: string;
}

/** What the worker needs of a job it runs. */
interface JobPlan {
  scenario: MigrationScenario;
  context: MigrationRequestContext;
  snapshots: SnapshotIds;
}

export function migrationExportJobs(options: MigrationExportJobsOptions): MigrationExports {
  const { db } = options;
  const jobs = new Map<string, ExportJob>();
  const dir = path.join(options.dataDir, 'migration-exports');
  const store = new ExportJobStore(dir);
  let queue: Promise<void> = Promise.resolve();

  /** The job, from this process or its saved status; 404 when neither knows it. */
  const known = async (id: string): Promise<ExportJob> => {
    const job = jobs.get(id);
    if (job) return job;
    const status = await store.load(id);
    if (!status) throw new EcsError(ErrorCode.NotFound, 'no such migration export');
    const loaded = jobs.get(id) ?? { status, file: path.join(dir, `${id}.tar.gz`) };
    jobs.set(id, loaded);
    return loaded;
  };

  const find = async (context: MigrationRequestContext, id: string): Promise<ExportJob> => {
    const job = await known(id);
    await assertAdministers(db, context, job.status.tenant_id, options.refusals);
    return job;
  };

  const save = (job: ExportJob): Promise<void> => store.save(job.status);

  const run = async (job: ExportJob, plan: JobPlan): Promise<void> => {
    const { status } = job;
    const base = { migration_export_id: status.id, scenario: status.scenario };
    const record = { ...plan, tenantId: status.tenant_id };
    status.state = 'running';
    try {
      await save(job);
      await recordMigrationEvent(db, { ...record, eventType: 'migration.export.start', details: base });
      const created = new Date();
      const done = await writePackageFile(job.file, {
        source: tenantExportSource({ ...options, tenantId: status.tenant_id, exportId: status.id, createdAt: created }),
        scenario: plan.scenario,
        tenantId: status.tenant_id,
        sourceProvider: options.providerId,
        signer: options.signer,
        created,
        onRefused: (item) =>
          recordMigrationEvent(db, {
            ...record,
            eventType: 'migration.export.refuse',
            outcome: 'refused',
            refusal: {
              reasonClass: 'dependency_unavailable_fail_closed',
              reasonCode: item.reason_code,
              subject: 'migration.export',
              reason: item.reason,
            },
            details: { ...base, refused_item: item.item, alternative: item.alternative },
          }).then(() => undefined),
      });
      Object.assign(status, {
        manifest_digest: sha256Digest(done.manifest),
        package_digest: done.digest,
        package_size: done.size,
        items: done.items,
        object_versions: done.objectVersions,
        refused_items: done.refused,
      });
      await recordMigrationEvent(db, {
        ...record,
        eventType: 'migration.export.complete',
        details: {
          ...base,
          manifest_digest: status.manifest_digest,
          package_digest: status.package_digest,
          items: done.items,
          object_versions: done.objectVersions,
          refused_items: done.refused.length,
        },
      });
      Object.assign(status, {
        state: 'completed',
        completed_at: new Date().toISOString(),
        package_url: `/v1/migrations/exports/${status.id}/package`,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      options.log.warn({ err: error, migrationExportId: status.id }, 'migration export failed');
      Object.assign(status, { state: 'failed', completed_at: new Date().toISOString(), error: reason, package_url: null });
      await recordMigrationEvent(db, {
        ...record,
        eventType: 'migration.export.fail',
        outcome: 'failed',
        details: { ...base, failure_reason: reason },
      }).catch((cause: unknown) => options.log.error({ err: cause }, 'migration export failure not evidenced'));
    }
    // Outside the try: a completed package whose status cannot be saved is still completed here.
    await save(job).catch((cause: unknown) =>
      options.log.error({ err: cause, migrationExportId: status.id }, 'migration export status not saved'),
    );
  };

  const cutover = sourceCutoverSteps({
    db,
    refusals: options.refusals,
    find,
    save,
    removePackage: (job) => Promise.all([rm(job.file, { force: true }), rm(`${job.file}.partial`, { force: true })]).then(() => undefined),
  });

  return {
    async request(context, { tenantId, scenario }) {
      await assertAdministers(db, context, tenantId, options.refusals);
      const state = await tenantState(db, tenantId);
      if (!state) throw new EcsError(ErrorCode.NotFound, 'no such tenant');
      const snapshots = { authoritySnapshotId: state.authority?.snapshotId, policySnapshotId: state.policy?.snapshotId };
      if (!isMigrationScenario(scenario)) throw await refuseScenario(db, { context, tenantId, scenario, snapshots });
      const principal = principalOf(context.caller);
      const active = [...jobs.values()].filter(
        (job) => job.principal === principal && (job.status.state === 'queued' || job.status.state === 'running'),
      );
      if (active.length >= options.perPrincipal) await refuseOverLimit(db, context, tenantId, options.perPrincipal);
      const id = `mex-${randomUUID()}`;
      const status = queuedStatus({ id, tenantId, scenario });
      // Counted and reserved with no await between, so concurrent requests cannot all slip under the limit.
      const job: ExportJob = { status, principal, file: path.join(dir, `${id}.tar.gz`) };
      jobs.set(id, job);
      try {
        await recordMigrationEvent(db, {
          context,
          tenantId,
          eventType: 'migration.export.plan',
          snapshots,
          details: { migration_export_id: id, scenario, source_provider: options.providerId },
        });
        await save(job);
      } catch (error) {
        jobs.delete(id);
        throw error;
      }
      queue = queue.then(() => run(job, { scenario, context, snapshots }));
      return { ...status };
    },
    async status(context, id) {
      return { ...(await find(context, id)).status };
    },
    async openPackage(context, id) {
      const job = await find(context, id);
      if (job.status.cutover === 'rolled_back')
        throw new EcsError(ErrorCode.Conflict, `migration export ${id} was rolled back; its package is removed`);
      if (job.status.state !== 'completed')
        throw new EcsError(
          ErrorCode.Conflict,
          `migration export ${id} is ${job.status.state}${job.status.state === 'failed' ? '' : '; its package is not ready yet'}`,
        );
      const status = { ...job.status };
      return {
        status,
        stream: createReadStream(job.file),
        // The answer is sent by then: a failure to evidence the transfer is logged, never thrown.
        transferred: (bytesSent, complete) =>
          tenantState(db, status.tenant_id)
            .then((state) =>
              recordMigrationEvent(db, {
                context,
                tenantId: status.tenant_id,
                eventType: 'migration.export.transfer',
                snapshots: { authoritySnapshotId: state?.authority?.snapshotId, policySnapshotId: state?.policy?.snapshotId },
                outcome: complete ? 'accepted' : 'failed',
                details: {
                  migration_export_id: status.id,
                  package_digest: status.package_digest,
                  package_size: status.package_size,
                  bytes_sent: bytesSent,
                },
              }),
            )
            .then(
              () => undefined,
              (error: unknown) => options.log.error({ err: error, migrationExportId: status.id }, 'package transfer not evidenced'),
            ),
      };
    },
    complete: cutover.complete,
    rollback: cutover.rollback,
    async stop() {
      await queue;
      await store.flush();
    },
  };
}
