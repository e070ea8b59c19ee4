import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';

/**
 * Whole-chain reads (verification, Merkle roots and proofs, export bundles) share the process
 * with every other request. Three rules keep one tenant's long chain from stalling the rest:
 * the chain is read in pages, at most half the database pool reads chain pages at once (the
 * other half stays free for everything else), and the work between pages is done in slices
 * that give the event loop back. On the embedded database a query runs on this thread and
 * its promises settle without I/O, so without those turns one verification would hold the
 * process for its whole length.
 */
export class ChainReads {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  /** Runs one page read when a slot is free (first come, first served). */
  async page<T>(read: () => Promise<T>): Promise<T> {
    if (this.active >= this.capacity) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await read();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

const perDatabase = new WeakMap<Database, ChainReads>();

/** The chain-page slots of a database handle: half its pool, at least one. */
export function chainReads(db: Database): ChainReads {
  let reads = perDatabase.get(db);
  if (!reads) {
    reads = new ChainReads(Math.max(1, Math.floor(db.poolSize / 2)));
    perDatabase.set(db, reads);
  }
  return reads;
}

/**
 * Events verified between two turns of the event loop: a few milliseconds of parsing,
 * canonicalising and hashing (50-130 µs an event). With several verifications running, every
 * other request waits about one slice of each per turn: with 200 a tenant's listing took about
 * a second while eight verifications ran on the embedded database, with 50 about 0.3 s.
 */
export const SLICE = 50;

/**
 * Gives the event loop a turn (timers, I/O, other requests) before more chain work, and
 * stops when the caller has gone away (the gateway timed out or the client hung up): nobody
 * would read the answer, and the slot would stay taken.
 */
export async function yieldTurn(signal: AbortSignal | undefined): Promise<void> {
  await nextTurn();
  if (signal?.aborted) throw new EcsError(ErrorCode.DependencyUnavailable, 'the request was abandoned before the chain was read');
}
