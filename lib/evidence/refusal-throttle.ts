import type { Database } from '../db/database';
import type { JsonObject } from './canonical-json';
import { chainIdFor } from './evidence-event';
import type { Refusal } from './evidence-event';
import { safeJson } from '../input/unsafe-text';
import { recordEvidence } from './ledger';

export interface ThrottleOptions {
  /** Length of one window. @default 60 s */
  windowMs?: number;
  /** Events written per window into one chain; the rest are counted. @default 60 */
  maxPerWindow?: number;
  /** Events an identified source (a principal, target and action) writes per window before its refusals are only counted. @default 5 */
  perSource?: number;
  now?: () => number;
}

/** A refusal to record, bounded by the throttle. */
export interface ThrottledRefusal {
  /** Chain that receives the event (`undefined`: the platform chain). */
  tenantId?: string;
  actor: string;
  correlationId: string;
  eventType: string;
  refusal: Refusal;
  authoritySnapshotId?: string;
  policySnapshotId?: string;
  details?: JsonObject;
}

interface SourceState {
  windowStart: number;
  /** Events written for the source in its window. */
  written: number;
  /** Pointer of the source's latest event (pending while it is being written). */
  pointer: Promise<string>;
  suppressed: number;
}

interface ChainWindow {
  windowStart: number;
  written: number;
  lastPointer: Promise<string> | undefined;
  /** Refusals suppressed by the chain's cap, reported in its next event. */
  suppressed: number;
}

/**
 * Evidence for repeated refusals, bounded: per source (a client address and reason, or a
 * principal, target and action) at most `burst` events per window (one for anonymous
 * sources, `perSource` for identified ones), and at most `maxPerWindow`
 * events per window in any one chain. Suppressed refusals are counted and reported as
 * `suppressed_before` in the source's (or the chain's) next event; each caller still gets
 * the pointer of the event that accounts for it. So a flood, whoever sends it and however
 * many principals it uses, grows a chain by at most `maxPerWindow` events per window and
 * process.
 */
export class RefusalThrottle {
  private readonly windowMs: number;
  private readonly maxPerWindow: number;
  /** See ThrottleOptions.perSource. */
  readonly perSource: number;
  private readonly now: () => number;
  private readonly sources = new Map<string, SourceState>();
  private readonly chains = new Map<string, ChainWindow>();

  constructor(
    private readonly db: Database,
    options: ThrottleOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxPerWindow = options.maxPerWindow ?? 60;
    this.perSource = options.perSource ?? 5;
    this.now = options.now ?? Date.now;
  }

  private chainWindow(chainId: string, now: number): ChainWindow {
    let window = this.chains.get(chainId);
    if (!window || now - window.windowStart >= this.windowMs) {
      if (!window && this.chains.size > 10_000) this.chains.clear();
      window = { windowStart: now, written: 0, lastPointer: window?.lastPointer, suppressed: window?.suppressed ?? 0 };
      this.chains.set(chainId, window);
    }
    return window;
  }

  /**
   * Returns the evidence pointer that accounts for this refusal. `burst`: events a source
   * may write per window before its refusals are only counted.
   */
  record(source: string, event: ThrottledRefusal, burst = 1): Promise<string> {
    // Decided synchronously, so concurrent refusals of one source share one event.
    const now = this.now();
    const chainId = chainIdFor(event.tenantId);
    const chain = this.chainWindow(chainId, now);
    const key = `${chainId}\u0000${source}`;
    let state = this.sources.get(key);
    if (state && now - state.windowStart >= this.windowMs) {
      state.windowStart = now;
      state.written = 0;
    }
    if ((state && state.written >= burst) || chain.written >= this.maxPerWindow) {
      if (state) state.suppressed += 1;
      else chain.suppressed += 1;
      const pointer = state?.pointer ?? chain.lastPointer;
      if (pointer) return pointer;
    }
    chain.written += 1;
    const suppressedBefore = (state?.suppressed ?? 0) + chain.suppressed;
    chain.suppressed = 0;
    const pointer = recordEvidence(this.db, [
      {
        tenantId: event.tenantId,
        eventType: event.eventType,
        actor: safeJson(event.actor),
        outcome: 'refused',
        correlationId: event.correlationId,
        authoritySnapshotId: event.authoritySnapshotId,
        policySnapshotId: event.policySnapshotId,
        refusal: safeJson(event.refusal),
        details: { ...safeJson(event.details), suppressed_before: suppressedBefore, throttle_window_ms: this.windowMs },
      },
    ]).then(([written]) => written!.evidence_pointer);
    if (!state) {
      if (this.sources.size > 10_000) this.sources.clear();
      state = { windowStart: now, written: 0, pointer, suppressed: 0 };
      this.sources.set(key, state);
    }
    state.written += 1;
    state.pointer = pointer;
    state.suppressed = 0;
    chain.lastPointer = pointer;
    // A failed write must not be handed to later callers as their pointer.
    pointer.catch(() => {
      if (this.sources.get(key)?.pointer === pointer) this.sources.delete(key);
      if (chain.lastPointer === pointer) chain.lastPointer = undefined;
    });
    return pointer;
  }
}
