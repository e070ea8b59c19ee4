import { EventEmitter } from 'node:events';
import { planBundle } from '../../../lib/bundle/plan-bundle';
import type { BundlePlan } from '../../../lib/bundle/plan-bundle';
import type { ExportConfig } from '../../../lib/config/config';
import { sha256Digest } from '../../../lib/evidence/canonical-json';
import type { BackgroundJob, SubgraphDependencies } from '../../../lib/subgraph/subgraph-app';
import { chainSource, repeatedPointers } from './chain-source';
import { claimExport, completeExport, failExport, heartbeat } from './export-store';
import type { EvidenceExport } from './export-store';
import { DEFAULT_EXPORT_SETTINGS, exportEndpoints, producerOf } from './export-settings';
import { exportJobDuration, exportJobs, exportJobsRunning, secondsSince } from '../../../lib/metrics/service-metrics';
import { SnapshotCollector } from './snapshot-artifacts';

/** Claims after which an export that keeps losing its worker is given up. */
const MAX_ATTEMPTS = 3;
/** Heartbeats at most this often (ms). */
const HEARTBEAT_MS = 1000;

/** Wakes this process's workers when an export is queued here (other replicas poll). */
const queued = new EventEmitter();
export function announceQueuedExport(): void {
  queued.emit('queued');
}

class Stopped extends Error {}

/**
 * The audit plane's export worker: claims queued exports (its own process's at once, any
 * replica's on the next poll), plans each bundle in one pass over the events, stores the
 * signed manifest and plan, and records the closing `evidence.export` event. One export
 * at a time per process. Stopping puts a running export back in the queue.
 */
export function startExportWorker(deps: SubgraphDependencies): BackgroundJob {
  const settings = deps.config?.exports ?? DEFAULT_EXPORT_SETTINGS;
  const log = deps.log.child({ component: 'export-worker' });
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;

  const drain = async (): Promise<void> => {
    while (!stopped) {
      const claim = await claimExport({ db: deps.db, staleAfterMs: settings.staleAfterMs });
      if (!claim) return;
      const started = performance.now();
      exportJobsRunning.inc();
      const outcome = await runExport(deps, settings, claim, () => stopped).catch((error: unknown): ExportOutcome => {
        log.error({ err: error, exportId: claim.id }, 'export failed unexpectedly');
        return 'failed';
      });
      exportJobsRunning.dec();
      exportJobs.inc({ outcome });
      exportJobDuration.observe({ outcome }, secondsSince(started));
    }
  };
  const kick = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((error: unknown) => log.warn({ err: error }, 'export queue not readable'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          kick();
        }
      });
  };
  queued.on('queued', kick);
  const timer = setInterval(kick, settings.pollIntervalMs);
  timer.unref();
  kick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      queued.off('queued', kick);
      await running;
    },
  };
}

/** How a run ended: `requeued` when the process stopped, `superseded` when another process finished the export first. */
type ExportOutcome = 'completed' | 'failed' | 'requeued' | 'superseded';

async function runExport(
  deps: SubgraphDependencies,
  settings: ExportConfig,
  claim: EvidenceExport,
  isStopped: () => boolean,
): Promise<ExportOutcome> {
  const { db } = deps;
  const log = deps.log.child({ component: 'export-worker', exportId: claim.id });
  if (claim.attempts > MAX_ATTEMPTS) {
    await failExport(db, claim, `gave up after ${MAX_ATTEMPTS} attempts (the exporting process stopped each time)`);
    return 'failed';
  }
  const scope = {
    tenantId: claim.tenantId,
    chainId: claim.chainId,
    fromSequence: claim.fromSequence,
    toSequence: claim.toSequence,
    profileId: claim.profileId,
  };
  const snapshots = new SnapshotCollector();
  const planes = deps.planeClient(`export:${claim.id}`, claim.correlationId);
  let lastBeat = Date.now();
  let plan: BundlePlan;
  try {
    plan = await planBundle({
      source: chainSource(db, scope),
      scope,
      producer: producerOf(settings),
      signer: deps.keys,
      exportId: claim.id,
      createdAt: claim.requestedAt,
      exportEndpoints,
      repeatedPointers: await repeatedPointers(db, scope),
      onBatch: async (batch, eventsDone) => {
        if (isStopped()) throw new Stopped();
        snapshots.add(batch);
        if (Date.now() - lastBeat < HEARTBEAT_MS) return;
        lastBeat = Date.now();
        if (!(await heartbeat({ db, claim, eventsDone }))) throw new Stopped();
      },
      manifestArtifacts: () => snapshots.artifacts({ db, planes, tenantId: claim.tenantId }),
    });
  } catch (error) {
    if (error instanceof Stopped) {
      await db.prisma.evidenceExport.updateMany({
        where: { id: claim.id, state: 'running', attempts: claim.attempts },
        data: { state: 'queued', attempts: { decrement: 1 } },
      });
      return 'requeued';
    }
    const reason = error instanceof Error ? error.message : String(error);
    log.warn({ err: error }, 'export failed');
    await failExport(db, claim, reason);
    return 'failed';
  }
  const manifest = plan.documents[0]!.text;
  const done = await completeExport(db, claim, {
    eventCount: plan.events.count,
    bundleHash: plan.bundleHash,
    merkleRoot: plan.merkleRoot,
    manifest,
    plan: JSON.stringify(plan),
    manifestDigest: sha256Digest(manifest),
  });
  if (done) log.info({ events: plan.events.count }, 'export completed');
  return done ? 'completed' : 'superseded';
}
