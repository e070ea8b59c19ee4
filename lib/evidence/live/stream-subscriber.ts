import type { EvidenceEvent } from '../evidence-event';
import type { StoredEvent } from '../stored-event';
import type { DeliveryBudget } from './delivery-budget';

export interface SubscriberOptions {
  /** Whether the client gets this event (filter and authorisation); the position moves on either way. */
  accepts(event: EvidenceEvent): boolean;
  /** The connection's bounded buffer. */
  budget: DeliveryBudget;
  /** Committed events of a chain after a sequence, in order (from the table). */
  readAfter(chainId: string, afterSequence: number, limit: number): Promise<StoredEvent[]>;
  /** Rows per catch-up read. */
  batchSize: number;
  /** Live events found the buffer full: called once; the stream has ended. */
  onOverflow(): void;
  /** Called once when the stream ends, however it ends (the hub forgets it). */
  onEnd(subscriber: StreamSubscriber): void;
}

/**
 * One live stream of committed events: an async iterator over one chain or all of them.
 *
 * It keeps the last sequence it has seen of each chain and accepts a live event only when
 * it is the next one; anything else (a resume point in the past, an event that arrived
 * while it was reading, a lost notification) makes it read the chain from the table from
 * its own position, in batches that fit the buffer, and then take live events again. So
 * every event is delivered once, in chain order, with no gap, whichever way it arrived.
 *
 * Reading from the table goes at the client's pace. A live event that finds the buffer
 * full means the client does not keep up: the stream ends and `onOverflow` is called.
 *
 * A consumer that can write synchronously (the websocket) may instead be called as events
 * are queued (`deliverTo`) and take them with `take()`, without a promise per event.
 */
export class StreamSubscriber implements AsyncIterableIterator<StoredEvent> {
  private readonly queue: StoredEvent[] = [];
  /** Chains to read from the table before taking their live events again. */
  private readonly behind = new Set<string>();
  /** Live events of chains being read, applied when the read reaches the end. */
  private readonly held = new Map<string, StoredEvent[]>();
  private wakeConsumer: (() => void) | undefined;
  /** Set by `deliverTo`: called instead of waking `next()`. */
  private ready: (() => void) | undefined;
  private pumping = false;
  private ended = false;
  private failure: Error | undefined;
  private resolveEnded!: () => void;
  private readonly endedSignal = new Promise<void>((resolve) => (this.resolveEnded = resolve));

  /** @param positions last sequence already seen per chain; chains not named start before their first event. */
  constructor(
    private readonly positions: Map<string, number>,
    private readonly options: SubscriberOptions,
  ) {}

  /** Reads `chainId` from the table from this subscriber's position before taking live events of it. */
  catchUp(chainId: string): void {
    if (this.ended) return;
    this.behind.add(chainId);
    this.pump();
  }

  /** The chain's newest committed sequence, as a periodic check found it: reads what was missed. */
  noteHead(chainId: string, sequence: number): void {
    if (!this.ended && !this.behind.has(chainId) && (this.positions.get(chainId) ?? 0) < sequence) this.catchUp(chainId);
  }

  /** A committed event, as the hub read it for every subscriber of its chain. */
  offer(event: StoredEvent): void {
    if (this.ended) return;
    const { chain_id: chainId, sequence } = event.envelope;
    const position = this.positions.get(chainId) ?? 0;
    if (sequence <= position) return;
    if (this.behind.has(chainId)) {
      this.hold(chainId, event);
    } else if (sequence === position + 1) {
      this.accept(event, true);
    } else {
      this.hold(chainId, event);
      this.catchUp(chainId);
    }
  }

  /**
   * Calls `ready` synchronously whenever an event has been queued or the stream has ended
   * (and once now). The consumer takes queued events with `take()` for as long as it can
   * pass them on, and calls `next()` only when the stream has ended and nothing is queued,
   * to learn how it ended (done, or the failure thrown).
   */
  deliverTo(ready: () => void): void {
    this.ready = ready;
    ready();
  }

  /** The oldest queued event, its place in the buffer freed; undefined when none is queued. */
  take(): StoredEvent | undefined {
    const event = this.queue.shift();
    if (event) this.options.budget.release(1);
    return event;
  }

  /** Whether the stream has ended; events queued before the end may still be taken. */
  get hasEnded(): boolean {
    return this.ended;
  }

  /** Ends the stream with an error for the client (after the events already queued). */
  fail(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.finish(false);
  }

  async next(): Promise<IteratorResult<StoredEvent>> {
    for (;;) {
      const event = this.take();
      if (event) return { value: event, done: false };
      if (this.failure) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      if (this.ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  async return(): Promise<IteratorResult<StoredEvent>> {
    this.finish(true);
    this.dropQueued();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<StoredEvent>> {
    this.finish(true);
    this.dropQueued();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private accept(event: StoredEvent, live: boolean): void {
    this.positions.set(event.envelope.chain_id, event.envelope.sequence);
    if (!this.options.accepts(event.envelope)) return;
    if (!live) {
      this.options.budget.take(1);
    } else if (!this.options.budget.tryTake()) {
      this.overflow();
      return;
    }
    this.queue.push(event);
    this.wake();
  }

  private hold(chainId: string, event: StoredEvent): void {
    let held = this.held.get(chainId);
    if (!held) this.held.set(chainId, (held = []));
    // Held events only save a read: past the buffer's size they are read from the table instead.
    if (held.length < this.options.budget.capacity) held.push(event);
  }

  private pump(): void {
    if (this.pumping || this.ended) return;
    this.pumping = true;
    this.readBehindChains()
      .catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        this.pumping = false;
        if (this.behind.size > 0) this.pump();
      });
  }

  private async readBehindChains(): Promise<void> {
    const { budget, batchSize } = this.options;
    while (!this.ended && this.behind.size > 0) {
      const chainId = this.behind.values().next().value as string;
      // Read in worthwhile batches: wait for half the buffer (or a batch) to be free, not one place.
      await Promise.race([budget.waitForRoom(Math.min(batchSize, Math.ceil(budget.capacity / 2))), this.endedSignal]);
      if (this.ended) return;
      const limit = Math.max(1, Math.min(batchSize, budget.room));
      const events = await this.options.readAfter(chainId, this.positions.get(chainId) ?? 0, limit);
      if (this.ended) return;
      for (const event of events) {
        const expected = (this.positions.get(chainId) ?? 0) + 1;
        if (event.envelope.sequence !== expected) {
          throw new Error(`chain ${chainId} read ${event.envelope.sequence} where ${expected} was expected`);
        }
        this.accept(event, false);
      }
      if (events.length < limit) this.rejoin(chainId);
    }
  }

  /**
   * The read reached the chain's end: apply the live events held meanwhile and go live.
   * What does not fit in the buffer now is read from the table later: the client is still
   * catching up at its own pace, not failing to keep up with live events.
   */
  private rejoin(chainId: string): void {
    const held = this.held.get(chainId) ?? [];
    this.held.delete(chainId);
    this.behind.delete(chainId);
    for (const [index, event] of held.entries()) {
      const position = this.positions.get(chainId) ?? 0;
      if (event.envelope.sequence <= position) continue;
      const fits = this.options.budget.room > 0 || !this.options.accepts(event.envelope);
      if (event.envelope.sequence !== position + 1 || !fits) {
        this.behind.add(chainId);
        this.held.set(chainId, held.slice(index));
        return;
      }
      this.accept(event, false);
    }
  }

  private overflow(): void {
    if (this.ended) return;
    this.finish(true);
    this.options.onOverflow();
  }

  private dropQueued(): void {
    this.options.budget.release(this.queue.length);
    this.queue.length = 0;
  }

  private finish(dropQueued: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (dropQueued) this.dropQueued();
    this.held.clear();
    this.behind.clear();
    this.resolveEnded();
    this.wake();
    this.options.onEnd(this);
  }

  private wake(): void {
    if (this.ready) {
      this.ready();
      return;
    }
    const wake = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wake?.();
  }
}
