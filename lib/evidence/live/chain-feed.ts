import type { StoredEvent } from '../stored-event';
import type { StreamSubscriber } from './stream-subscriber';

export interface ChainFeedOptions {
  /** Committed events of the chain after a sequence, in order, at most `limit`. */
  readAfter(afterSequence: number, limit: number): Promise<StoredEvent[]>;
  batchSize: number;
  /** Offers one event to whoever follows the chain. */
  dispatch(event: StoredEvent): void;
  /** A read failed; the next wake reads again. */
  onError(error: unknown): void;
}

/**
 * One chain's new events, read once per process for all of its subscribers: each wake
 * reads after the last sequence read, one read at a time; a wake during a read makes the
 * read run once more.
 */
export class ChainFeed {
  readonly subscribers = new Set<StreamSubscriber>();
  private reading = false;
  private again = false;

  constructor(
    readonly chainId: string,
    /** Last sequence read. */
    public position: number,
    private readonly options: ChainFeedOptions,
  ) {}

  /** The chain has reached `sequence` (or may have: undefined): read what is new. */
  wake(sequence?: number): void {
    if (sequence !== undefined && sequence <= this.position) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.readNew().finally(() => {
      this.reading = false;
    });
  }

  private async readNew(): Promise<void> {
    const { batchSize } = this.options;
    try {
      do {
        this.again = false;
        const events = await this.options.readAfter(this.position, batchSize);
        for (const event of events) {
          this.position = Math.max(this.position, event.envelope.sequence);
          this.options.dispatch(event);
        }
        if (events.length === batchSize) this.again = true;
      } while (this.again);
    } catch (error) {
      this.options.onError(error);
    }
  }
}
