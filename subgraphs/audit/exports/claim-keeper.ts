import type { BundleSource } from '../../../lib/bundle/bundle-source';
import type { Database } from '../../../lib/db/database';
import { heartbeat } from './export-store';
import type { EvidenceExport } from './export-store';

/** Heartbeats at most this often (ms). */
const HEARTBEAT_MS = 1000;

/** The process is stopping, or another worker took the export over: the run gives up its claim. */
export class Stopped extends Error {}

export interface ClaimKeeper {
  /** Heartbeats now and then; throws Stopped when the process stops or the claim is lost. */
  beat(eventsDone: number): Promise<void>;
  /** For synchronous callers: heartbeats in the background; throws Stopped once it is known. */
  beatSoon(eventsDone: number): void;
  /** Whether the process stopped or the claim was lost. */
  interrupted(): boolean;
  /** `source`, whose every pass beats once per batch of events. */
  watching(source: BundleSource, eventsDone: number): BundleSource;
}

/**
 * Keeps a worker's claim on an export alive while the export runs (a claim whose heartbeat
 * is older than the stale time is another replica's to take), and tells the run when to stop.
 */
export function claimKeeper({ db, claim, isStopped }: { db: Database; claim: EvidenceExport; isStopped: () => boolean }): ClaimKeeper {
  let lastBeat = Date.now();
  let lost = false;
  const interrupted = (): boolean => lost || isStopped();
  const due = (): boolean => {
    if (interrupted()) throw new Stopped();
    if (Date.now() - lastBeat < HEARTBEAT_MS) return false;
    lastBeat = Date.now();
    return true;
  };
  const beat = async (eventsDone: number): Promise<void> => {
    if (!due()) return;
    if (!(await heartbeat({ db, claim, eventsDone }))) lost = true;
    if (lost) throw new Stopped();
  };
  return {
    beat,
    beatSoon(eventsDone) {
      if (!due()) return;
      heartbeat({ db, claim, eventsDone }).then(
        (kept) => {
          if (!kept) lost = true;
        },
        // A heartbeat that failed to arrive is retried on the next beat.
        () => undefined,
      );
    },
    interrupted,
    watching(source, eventsDone) {
      return {
        async *events() {
          for await (const batch of source.events()) {
            await beat(eventsDone);
            yield batch;
          }
        },
        artifacts: (pointers) => source.artifacts(pointers),
      };
    },
  };
}
