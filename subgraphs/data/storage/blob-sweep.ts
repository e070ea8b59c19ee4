import { FsBlobStore } from '../../../lib/blob-store';
import type { BlobStore, SweepResult } from '../../../lib/blob-store';
import type { Database } from '../../../lib/db/database';
import type { BackgroundJob, SubgraphDependencies } from '../../../lib/subgraph/subgraph-app';
import { blobReferenced } from '../records/objects';

/** Removes blobs that no version and no multipart part refers to, once untouched for `graceMs`. */
export function sweepOrphanBlobs(db: Database, blobs: BlobStore, graceMs: number, now?: number): Promise<SweepResult> {
  return blobs.sweep((sha256) => blobReferenced(db, sha256), { graceMs, now });
}

/**
 * The data plane's orphan sweep: once shortly after start, then every interval. Overwritten,
 * deleted and aborted bytes go this way; an upload whose metadata never committed (crash,
 * refusal) leaves at most a temporary file or an unreferenced blob, which go too.
 */
export function blobSweepJob(deps: SubgraphDependencies): BackgroundJob {
  const config = deps.config;
  if (!config) return { stop: async () => undefined };
  const blobs = new FsBlobStore(config.blobDir);
  const { intervalMs, graceMs } = config.blobSweep;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    if (running || stopped) return;
    running = sweepOrphanBlobs(deps.db, blobs, graceMs)
      .then((result) => {
        if (result.removedBlobs.length || result.removedTemporary) {
          deps.log.info(
            { removedBlobs: result.removedBlobs.length, removedTemporary: result.removedTemporary, kept: result.kept },
            'orphan blob sweep',
          );
        }
      })
      .catch((error: unknown) => deps.log.warn({ err: error }, 'orphan blob sweep failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(run, 1_000);
  first.unref();
  const timer = intervalMs > 0 ? setInterval(run, intervalMs) : undefined;
  timer?.unref();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(first);
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
