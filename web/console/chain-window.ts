import type { CheckedEvent, LiveEvent } from './event-check';

/** An event as the console keeps it once checked: its stored text is let go. */
export type KeptEvent = Omit<LiveEvent, 'canonical'>;

export interface KeptCheck {
  event: KeptEvent;
  /** Empty when the event's hash and its link to the previous event held. */
  problems: string[];
}

export interface TableFilter {
  /** Exact type, or a family with a trailing `.*`; empty: all. */
  eventType: string;
  /** accepted, refused or failed; empty: all. */
  outcome: string;
}

export const OUTCOMES = ['accepted', 'refused', 'failed'] as const;
export type OutcomeCounts = Record<(typeof OUTCOMES)[number], number>;

/** Minutes the chart covers, up to the current one. */
export const CHART_MINUTES = 30;

/** Events the console keeps (without their text) to filter and show: the newest of the chain. */
export const KEPT_EVENTS = 5_000;
/** Rows the table shows at most: the newest of the kept events that match the filter. */
export const SHOWN_ROWS = 500;
/** Broken events kept however old, so that the first breaks stay shown after they scroll out of the kept ones. */
const KEPT_BROKEN = 100;

function matches(event: KeptEvent, filter: TableFilter): boolean {
  const { eventType, outcome } = event;
  if (filter.outcome && outcome !== filter.outcome) return false;
  if (!filter.eventType) return true;
  return filter.eventType.endsWith('.*') ? eventType.startsWith(filter.eventType.slice(0, -1)) : eventType === filter.eventType;
}

const minuteOf = (occurredAt: string): number => Math.floor(Date.parse(occurredAt) / 60_000);

/**
 * What the console holds of a chain it follows from the first event: every event is checked
 * as it arrives, but only counts, the newest `keep` events (without their stored text), the
 * first broken ones and the per-minute counts of the chart's minutes stay. So memory and the
 * work of drawing a frame do not grow with the chain: a tenant of millions of events is
 * verified to its head as one of a hundred is.
 */
export class ChainWindow {
  /** Events checked so far. */
  total = 0;
  /** Of those, the ones with a problem. */
  broken = 0;
  private readonly kept: KeptCheck[] = [];
  /** Index in `kept` of its oldest event (a ring once full). */
  private oldest = 0;
  private readonly firstBroken: KeptCheck[] = [];
  private readonly perMinute = new Map<number, OutcomeCounts>();

  constructor(
    private readonly keep = KEPT_EVENTS,
    private readonly clock: () => number = Date.now,
  ) {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError('keep must be a positive integer');
  }

  add({ event, problems }: CheckedEvent): void {
    const { canonical: _, ...kept } = event;
    const checked: KeptCheck = { event: kept, problems };
    this.total += 1;
    if (problems.length) {
      this.broken += 1;
      if (this.firstBroken.length < KEPT_BROKEN) this.firstBroken.push(checked);
    }
    if (this.kept.length < this.keep) this.kept.push(checked);
    else {
      this.kept[this.oldest] = checked;
      this.oldest = (this.oldest + 1) % this.keep;
    }
    this.count(kept);
  }

  /** The first event found broken, if any. */
  get firstBreak(): KeptCheck | undefined {
    return this.firstBroken[0];
  }

  /** Events kept (the newest `keep`). */
  get keptCount(): number {
    return this.kept.length;
  }

  /**
   * Newest first, the kept events that match `filter` (at most `limit`), with the kept broken
   * events that match placed by their sequence even when older than the kept ones.
   */
  rows(filter: TableFilter, limit = SHOWN_ROWS): { rows: KeptCheck[]; matching: number } {
    const rows: KeptCheck[] = [];
    let matching = 0;
    const oldestKept = this.kept.length ? this.at(0).event.sequence : Number.POSITIVE_INFINITY;
    for (let index = this.kept.length - 1; index >= 0; index -= 1) {
      const checked = this.at(index);
      if (!matches(checked.event, filter)) continue;
      matching += 1;
      if (rows.length < limit) rows.push(checked);
    }
    for (let index = this.firstBroken.length - 1; index >= 0; index -= 1) {
      const checked = this.firstBroken[index]!;
      if (checked.event.sequence >= oldestKept || !matches(checked.event, filter)) continue;
      matching += 1;
      if (rows.length < limit) rows.push(checked);
    }
    return { rows, matching };
  }

  /** Events per minute by outcome over the chart's minutes, oldest first (the last is the current minute). */
  minuteCounts(now = this.clock()): OutcomeCounts[] {
    const last = Math.floor(now / 60_000);
    for (const minute of this.perMinute.keys()) if (minute <= last - CHART_MINUTES) this.perMinute.delete(minute);
    return Array.from({ length: CHART_MINUTES }, (_, index) => ({
      ...{ accepted: 0, refused: 0, failed: 0 },
      ...this.perMinute.get(last - CHART_MINUTES + 1 + index),
    }));
  }

  /** The kept event `index` places from the oldest. */
  private at(index: number): KeptCheck {
    return this.kept[(this.oldest + index) % this.kept.length]!;
  }

  private count(event: KeptEvent): void {
    const minute = minuteOf(event.occurredAt);
    if (!Number.isFinite(minute) || minute <= Math.floor(this.clock() / 60_000) - CHART_MINUTES) return;
    if (!(OUTCOMES as readonly string[]).includes(event.outcome)) return;
    let counts = this.perMinute.get(minute);
    if (!counts) {
      counts = { accepted: 0, refused: 0, failed: 0 };
      this.perMinute.set(minute, counts);
    }
    counts[event.outcome as keyof OutcomeCounts] += 1;
  }
}
