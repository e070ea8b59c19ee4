import type { Database } from '../../db/database';
import { EcsError, ErrorCode } from '../../errors';
import { EVIDENCE_CHANNEL } from '../commit-announcer';
import { chainIdFor } from '../evidence-event';
import type { EvidenceEvent } from '../evidence-event';
import type { Logger } from '../../logger';
import { ChainFeed } from './chain-feed';
import { findChainEventsAfter, findChainHeads } from './chain-reads';
import type { DeliveryBudget } from './delivery-budget';
import { eventMatcher } from './stream-filter';
import type { StreamFilter } from './stream-filter';
import { StreamSubscriber } from './stream-subscriber';

export { EVIDENCE_CHANNEL };

export interface EvidenceStreamOptions {
  db: Database;
  log: Logger;
  /** How often chain heads are compared with what was read, in case a notification was lost. @default 5000 */
  pollIntervalMs?: number;
  /** Rows per read. @default 200 */
  batchSize?: number;
}

export interface OpenStreamOptions {
  filter: StreamFilter;
  /** Deliver the stored events of the tenant's chain after this sequence first (resume). */
  afterSequence?: number;
  /** The bounded buffer of the client's connection. */
  budget: DeliveryBudget;
  /** Re-checked for each event before delivery (authorisation). */
  authorize?(event: EvidenceEvent): boolean;
  /** The client did not keep up; the stream has ended. */
  onOverflow(): void;
}

/**
 * The live source of committed evidence events in one process. A NOTIFY after each commit
 * (PostgreSQL: LISTEN on its own connection, so events committed by any process arrive;
 * PGlite: in-process) says "chain X has reached sequence N"; the event itself is always read
 * from the table. A periodic comparison of chain heads catches a lost notification.
 */
export class EvidenceStream {
  private readonly feeds = new Map<string, ChainFeed>();
  /** Subscribers of every chain (platform-wide auditors). */
  private readonly everyChain = new Set<StreamSubscriber>();
  private readonly feedOf = new Map<StreamSubscriber, ChainFeed>();
  private readonly batchSize: number;
  private unlisten: (() => Promise<void>) | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

  constructor(private readonly options: EvidenceStreamOptions) {
    this.batchSize = options.batchSize ?? 200;
  }

  async start(): Promise<void> {
    const { db, log } = this.options;
    this.unlisten = await db.listen(EVIDENCE_CHANNEL, {
      onNotification: (payload) => this.onNotification(payload),
      onResync: () => void this.poll(),
      onError: (error) => log.warn({ err: error }, 'evidence notifications: connection problem, reconnecting'),
    });
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollIntervalMs ?? 5000);
    this.pollTimer.unref();
  }

  /** Ends every stream (with an error saying why) and stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    const closing = new EcsError(ErrorCode.DependencyUnavailable, 'the server is shutting down; resume from your last sequence');
    for (const subscriber of [...this.everyChain, ...this.feedOf.keys()]) subscriber.fail(closing);
    this.feeds.clear();
    await this.unlisten?.();
  }

  /** Number of open streams in this process. */
  get size(): number {
    return this.everyChain.size + this.feedOf.size;
  }

  /**
   * Opens a stream: one tenant's chain (from `afterSequence`, or from now) or every chain
   * (from now; chains created later from their first event).
   * @throws EcsError ECS_BAD_REQUEST for a resume point beyond the chain or without a tenant
   */
  async open(options: OpenStreamOptions): Promise<StreamSubscriber> {
    this.assertRunning();
    const { db } = this.options;
    const matches = eventMatcher(options.filter);
    const make = (positions: Map<string, number>) =>
      new StreamSubscriber(positions, {
        accepts: (event) => matches(event) && (options.authorize?.(event) ?? true),
        budget: options.budget,
        readAfter: (chainId, afterSequence, limit) => findChainEventsAfter({ db, chainId, afterSequence, limit }),
        batchSize: this.batchSize,
        onOverflow: options.onOverflow,
        onEnd: (subscriber) => this.detach(subscriber),
      });

    if (options.filter.tenantId !== undefined) {
      const chainId = chainIdFor(options.filter.tenantId);
      const head = (await findChainHeads({ db, chainIds: [chainId] })).get(chainId) ?? 0;
      if (options.afterSequence !== undefined && options.afterSequence > head) {
        throw new EcsError(
          ErrorCode.BadRequest,
          `afterSequence ${options.afterSequence} is beyond the newest event of the chain (${head})`,
          {
            field: 'afterSequence',
          },
        );
      }
      this.assertRunning();
      const subscriber = make(new Map([[chainId, options.afterSequence ?? head]]));
      let feed = this.feeds.get(chainId);
      if (!feed) feed = this.addFeed(chainId, head);
      feed.subscribers.add(subscriber);
      this.feedOf.set(subscriber, feed);
      // One read from the table after joining: covers a resume point in the past and
      // anything committed between reading the head and joining.
      subscriber.catchUp(chainId);
      return subscriber;
    }

    if (options.afterSequence !== undefined) {
      throw new EcsError(ErrorCode.BadRequest, 'afterSequence needs a tenantId: sequences are per tenant chain', {
        field: 'afterSequence',
      });
    }
    const heads = await findChainHeads({ db });
    this.assertRunning();
    const subscriber = make(new Map(heads));
    this.everyChain.add(subscriber);
    // Events committed before joining but after the first look are read from the table.
    for (const [chainId, head] of await findChainHeads({ db })) subscriber.noteHead(chainId, head);
    return subscriber;
  }

  private assertRunning(): void {
    if (this.stopped) throw new EcsError(ErrorCode.DependencyUnavailable, 'the server is shutting down');
  }

  private detach(subscriber: StreamSubscriber): void {
    const feed = this.feedOf.get(subscriber);
    this.feedOf.delete(subscriber);
    this.everyChain.delete(subscriber);
    if (feed) {
      feed.subscribers.delete(subscriber);
      if (feed.subscribers.size === 0 && this.everyChain.size === 0) this.feeds.delete(feed.chainId);
    }
    if (this.everyChain.size === 0) {
      for (const [chainId, idle] of this.feeds) if (idle.subscribers.size === 0) this.feeds.delete(chainId);
    }
  }

  /** A payload is one or more lines `<chain_id> <sequence>` (lib/evidence/commit-announcer.ts). */
  private onNotification(payload: string): void {
    for (const line of payload.split('\n')) {
      const space = line.lastIndexOf(' ');
      const sequence = Number(line.slice(space + 1));
      if (space <= 0 || !Number.isInteger(sequence)) continue;
      const chainId = line.slice(0, space);
      let feed = this.feeds.get(chainId);
      if (!feed) {
        if (this.everyChain.size === 0) continue;
        feed = this.addFeed(chainId, sequence - 1);
      }
      feed.wake(sequence);
    }
  }

  /** A feed of one chain, read after `position`; it offers each event to the chain's subscribers and to every-chain ones. */
  private addFeed(chainId: string, position: number): ChainFeed {
    const feed: ChainFeed = new ChainFeed(chainId, position, {
      readAfter: (afterSequence, limit) => findChainEventsAfter({ db: this.options.db, chainId, afterSequence, limit }),
      batchSize: this.batchSize,
      dispatch: (event) => {
        for (const subscriber of feed.subscribers) subscriber.offer(event);
        for (const subscriber of this.everyChain) subscriber.offer(event);
      },
      // The next notification or the periodic check reads again.
      onError: (error) => {
        if (!this.stopped) this.options.log.warn({ err: error, chainId }, 'reading new evidence events failed');
      },
    });
    this.feeds.set(chainId, feed);
    return feed;
  }

  /** Compares chain heads with what was read: the safety net for a lost notification. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    const chainIds = this.everyChain.size > 0 ? undefined : [...this.feeds.keys()];
    if (chainIds?.length === 0) return;
    this.polling = true;
    try {
      const heads = await findChainHeads({ db: this.options.db, chainIds });
      for (const [chainId, head] of heads) {
        const feed = this.feeds.get(chainId);
        if (feed) {
          feed.wake(head);
        } else if (this.everyChain.size > 0) {
          this.addFeed(chainId, head);
          for (const subscriber of this.everyChain) subscriber.noteHead(chainId, head);
        }
      }
    } catch (error) {
      if (!this.stopped) this.options.log.warn({ err: error }, 'checking chain heads failed');
    } finally {
      this.polling = false;
    }
  }
}
