import type { Database } from '../db/database';
import type { Refusal } from './evidence-event';
import { appendEvidence } from './ledger';

export interface ThrottleOptions {
  /** Length of one window. @default 60 s */
  windowMs?: number;
  /** Events written per window across all sources; the rest are counted. @default 60 */
  maxPerWindow?: number;
  now?: () => number;
}

interface SourceState {
  windowStart: number;
  /** Pointer of the source's latest event (pending while it is being written). */
  pointer: Promise<string>;
  suppressed: number;
}

/**
 * Evidence for refusals of unauthenticated requests, bounded: per source (e.g. client
 * address and reason) at most one event per window, and at most `maxPerWindow` events per
 * window overall. Suppressed refusals are counted and reported as `suppressed_before` in
 * the source's next event; each caller still gets the pointer of the event that accounts
 * for it. So a flood grows the log by at most `maxPerWindow` events per window and process.
 */
export class RefusalThrottle {
  private readonly windowMs: number;
  private readonly maxPerWindow: number;
  private readonly now: () => number;
  private readonly sources = new Map<string, SourceState>();
  private windowStart = 0;
  private writtenInWindow = 0;
  private lastPointer: Promise<string> | undefined;
  private suppressedOverall = 0;

  constructor(
    private readonly db: Database,
    options: ThrottleOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxPerWindow = options.maxPerWindow ?? 60;
    this.now = options.now ?? Date.now;
  }

  /** Returns the evidence pointer that accounts for this refusal. */
  record(source: string, event: { actor: string; correlationId: string; eventType: string; refusal: Refusal }): Promise<string> {
    // Decided synchronously, so concurrent refusals of one source share one event.
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.writtenInWindow = 0;
      if (this.sources.size > 10_000) this.sources.clear();
    }
    const state = this.sources.get(source);
    const fresh = !state || now - state.windowStart >= this.windowMs;
    if (!fresh || this.writtenInWindow >= this.maxPerWindow) {
      if (state) state.suppressed += 1;
      else this.suppressedOverall += 1;
      const pointer = state?.pointer ?? this.lastPointer;
      if (pointer) return pointer;
    }
    this.writtenInWindow += 1;
    const suppressedBefore = (state?.suppressed ?? 0) + this.suppressedOverall;
    this.suppressedOverall = 0;
    const pointer = this.db.prisma
      .$transaction((tx) =>
        appendEvidence(tx, {
          tenantId: undefined,
          eventType: event.eventType,
          actor: event.actor,
          outcome: 'refused',
          correlationId: event.correlationId,
          refusal: event.refusal,
          details: { suppressed_before: suppressedBefore, throttle_window_ms: this.windowMs },
        }),
      )
      .then((written) => written.evidence_pointer);
    this.sources.set(source, { windowStart: now, pointer, suppressed: 0 });
    this.lastPointer = pointer;
    // A failed write must not be handed to later callers as their pointer.
    pointer.catch(() => {
      if (this.sources.get(source)?.pointer === pointer) this.sources.delete(source);
      if (this.lastPointer === pointer) this.lastPointer = undefined;
    });
    return pointer;
  }
}
