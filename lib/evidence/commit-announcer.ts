import type { Database } from '../db/database';

/** Where committed evidence is announced, as lines `<chain_id> <sequence>` (the chain has reached the sequence). */
export const EVIDENCE_CHANNEL = 'ecs_evidence';

/** Bytes of one NOTIFY payload (PostgreSQL allows just under 8,000). */
const MAX_PAYLOAD = 7000;

/**
 * Least time between two announcements of a process, in ms. An announcement after a quiet
 * spell goes at once; under a steady stream of commits the ones of this interval share one
 * NOTIFY (a single sequential writer would otherwise pay a NOTIFY per append).
 */
const ANNOUNCE_INTERVAL_MS = 2;

/**
 * Announces committed evidence to the live streams of every process (LISTEN
 * `ecs_evidence`), after the commit and outside the appending transaction. A NOTIFY inside
 * that transaction would make its commit take PostgreSQL's database-wide notification lock
 * and wait for every other notifying commit, so the appends of all tenants would commit one
 * after the other. Here the announcements of a process are gathered while one NOTIFY is on
 * its way or within ANNOUNCE_INTERVAL_MS of the last (one line per chain, its highest
 * sequence) and go in the next. A lost announcement (a process ending between commit and
 * NOTIFY) delays live delivery until the streams' periodic head check; it never loses an
 * event, which is read from the table.
 */
class CommitAnnouncer {
  private readonly pending = new Map<string, number>();
  /** A NOTIFY is on its way, or waits for the interval to pass. */
  private busy = false;
  private lastSent = Number.NEGATIVE_INFINITY;

  constructor(private readonly db: Database) {}

  announce(events: ReadonlyArray<{ chain_id: string; sequence: number }>): void {
    for (const { chain_id: chainId, sequence } of events) {
      if ((this.pending.get(chainId) ?? 0) < sequence) this.pending.set(chainId, sequence);
    }
    if (!this.busy && this.pending.size > 0) void this.send();
  }

  private async send(): Promise<void> {
    this.busy = true;
    try {
      while (this.pending.size > 0) {
        const wait = this.lastSent + ANNOUNCE_INTERVAL_MS - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
        const lines = [...this.pending].map(([chainId, sequence]) => `${chainId} ${sequence}`);
        this.pending.clear();
        this.lastSent = performance.now();
        for (const payload of payloads(lines)) {
          await this.db.notify(EVIDENCE_CHANNEL, payload).catch(() => undefined);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

function payloads(lines: string[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current && Buffer.byteLength(current) + 1 + Buffer.byteLength(line) > MAX_PAYLOAD) {
      out.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) out.push(current);
  return out;
}

const announcers = new WeakMap<Database, CommitAnnouncer>();

/** Announces events of `db` that have committed (see CommitAnnouncer). */
export function announceCommitted(db: Database, events: ReadonlyArray<{ chain_id: string; sequence: number }>): void {
  if (events.length === 0) return;
  let announcer = announcers.get(db);
  if (!announcer) {
    announcer = new CommitAnnouncer(db);
    announcers.set(db, announcer);
  }
  announcer.announce(events);
}
