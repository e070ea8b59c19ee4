import { Redis } from 'ioredis';
import type { Logger } from '../logger';

/** The Redis connection gateway replicas share their request counters through. */
export interface RateLimitStore {
  client: Redis;
  /** Start of every counter's key (`<keyPrefix>:<limiter>:<key>`). */
  keyPrefix: string;
  /**
   * Starts connecting (and reconnecting, for as long as the store is open); resolves once
   * connected or after the connect timeout, whichever comes first, and never rejects. Until
   * it is called the client holds no socket.
   */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export interface RateLimitStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...`. */
  url: string;
  keyPrefix: string;
  log: Logger;
  /** How long a connection attempt, and then one counter update, may take. @default 1000 */
  timeoutMs?: number;
}

/**
 * A Redis client for the request counters that makes no one wait long for it: start-up waits
 * at most `timeoutMs`, and the limiters count in memory whenever it is not ready
 * (rate-limit.ts). Commands are not queued while disconnected (they fail at once), none waits
 * longer than `timeoutMs`, and reconnection attempts back off to one every five seconds. An
 * outage is logged once, at warn, and its end at info: never per request.
 */
export function createRateLimitStore(options: RateLimitStoreOptions): RateLimitStore {
  const timeoutMs = options.timeoutMs ?? 1000;
  const client = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // A server that stops answering (hung, or its network gone) has its socket dropped and is reconnected.
    socketTimeout: timeoutMs,
    // A socket being closed is destroyed after this, so a stop is never held up by it.
    disconnectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 250, 5000),
    connectionName: 'ecs-gateway-rate-limits',
  });
  const log = options.log.child({ component: 'rate-limit-store' });
  let closing = false;
  let state: 'connecting' | 'ready' | 'down' = 'connecting';
  const lost = (err?: unknown): void => {
    if (closing || state === 'down') return;
    state = 'down';
    log.warn({ err }, 'rate limit store (Redis) unreachable: each gateway process counts requests on its own until it is back');
  };
  client.on('error', lost);
  client.on('close', () => lost());
  client.on('ready', () => {
    if (state === 'down') log.info('rate limit store (Redis) reachable again: request counters are shared again');
    state = 'ready';
  });
  return {
    client,
    keyPrefix: options.keyPrefix,
    connect: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      // A failed attempt is reported by the 'error' listener and retried by `retryStrategy`.
      await Promise.race([client.connect().catch(() => undefined), timeout]);
      clearTimeout(timer);
    },
    close: async () => {
      closing = true;
      if (client.status === 'ready') {
        // QUIT lets Redis finish what was sent; a store that does not answer is dropped.
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}
