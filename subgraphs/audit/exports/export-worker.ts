import { EventEmitter } from 'node:events';
import { planBundle } from '../../../lib/bundle/plan-bundle';
import type { BundlePlan } from '../../../lib/bundle/plan-bundle';
import type { ExportConfig } from '../../../lib/config/config';
import { sha256Digest } from '../../../lib/evidence/canonical-json';
import type { Logger } from '../../../lib/logger';
import type { BackgroundJob, SubgraphDependencies } from '../../../lib/subgraph/subgraph-app';
import { chainSource, repeatedPointers } from './chain-source';
import { Stopped, claimKeeper } from './claim-keeper';
import type { ClaimKeeper } from './claim-keeper';
import { claimExport, completeExport, failExport } from './export-store';
import type { EvidenceExport } from './export-store';
import { DEFAULT_EXPORT_SETTINGS, exportEndpoints, producerOf } from './export-settings';
import { exportJobDuration, exportJobs, exportJobsRunning, secondsSince } from '../../../lib/metrics/service-metrics';
import { SnapshotCollector } from './snapshot-artifacts';
import { verifyExportBundle } from './verify-export';
import type { BundleVerdict } from './verify-export';

/** Claims after which an export that keeps losing its worker is given up. */
const MAX_ATTEMPTS = 3;

/** Wakes this process's workers when an export is queued here (other replicas poll). */
const queued = new EventEmitter();
export function announceQueuedExport(): void {
  queued.emit('queued');
}

/**
 * The audit plane's export worker: claims queued exports (its own process's at once, any
 * replica's on the next poll), plans each bundle in one pass over the events, writes the
 * bundle once and verifies the file offline (verify-export.ts), stores the signed manifest,
 * plan and verdict, and records the closing `evidence.export` event. One export at a time
 * per process. Stopping puts a running export back in the queue.
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
  const keeper = claimKeeper({ db, claim, isStopped });
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
        if (keeper.interrupted()) throw new Stopped();
        snapshots.add(batch);
        await keeper.beat(eventsDone);
      },
      manifestArtifacts: () => snapshots.artifacts({ db, planes, tenantId: claim.tenantId }),
    });
  } catch (error) {
    if (error instanceof Stopped) return requeue(deps, claim);
    const reason = error instanceof Error ? error.message : String(error);
    log.warn({ err: error }, 'export failed');
    await failExport(db, claim, reason);
    return 'failed';
  }
  const verification = await verifyPlanned(deps, plan, keeper, log);
  if (!verification) return requeue(deps, claim);
  const manifest = plan.documents[0]!.text;
  const done = await completeExport(db, claim, {
    eventCount: plan.events.count,
    bundleHash: plan.bundleHash,
    merkleRoot: plan.merkleRoot,
    manifest,
    plan: JSON.stringify(plan),
    manifestDigest: sha256Digest(manifest),
    verification: JSON.stringify(verification),
  });
  if (done) log.info({ events: plan.events.count, valid: verification.valid }, 'export completed');
  return done ? 'completed' : 'superseded';
}

/** Puts the export back in the queue, unless another worker has taken it over meanwhile. */
async function requeue({ db }: SubgraphDependencies, claim: EvidenceExport): Promise<ExportOutcome> {
  await db.prisma.evidenceExport.updateMany({
    where: { id: claim.id, state: 'running', attempts: claim.attempts },
    data: { state: 'queued', attempts: { decrement: 1 } },
  });
  return 'requeued';
}

/**
 * The offline verifier's verdict on the bundle as it will be downloaded; undefined when the
 * process stopped or lost the claim meanwhile. A bundle that cannot be written or does not
 * verify still completes, with its verdict saying why: that is the incident to show.
 */
async function verifyPlanned(
  deps: SubgraphDependencies,
  plan: BundlePlan,
  keeper: ClaimKeeper,
  log: Logger,
): Promise<BundleVerdict | undefined> {
  const events = plan.events.count;
  let verdict: BundleVerdict;
  try {
    verdict = await verifyExportBundle({
      plan,
      source: keeper.watching(chainSource(deps.db, plan.scope), events),
      jwks: deps.keys.jwks,
      onProgress: () => keeper.beatSoon(events),
    });
  } catch (error) {
    if (error instanceof Stopped || keeper.interrupted()) return undefined;
    log.error({ err: error }, 'the bundle of an export could not be written');
    return { valid: false, checks: 0, events: 0, failures: [`bundle: ${error instanceof Error ? error.message : String(error)}`] };
  }
  if (keeper.interrupted()) return undefined;
  if (!verdict.valid) log.error({ failures: verdict.failures }, 'the bundle of an export does not verify');
  return verdict;
}
