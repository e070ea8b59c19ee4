import type { RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { EcsError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { sendError } from './error-body';
import type { RateLimitStore } from './rate-limit-store';

export interface RateLimitOptions {
  /** Redis shared by the gateway replicas (rate-limit-store.ts); absent: this process's memory. */
  store?: RateLimitStore;
  /** Requests allowed per window. */
  points: number;
  /** Window length in seconds. @default 60 */
  durationSeconds?: number;
  /** Names the limiter; unique among the limiters sharing a store. */
  keyPrefix: string;
}

/**
 * A request limiter. With a store its counters live in Redis, so every gateway replica shares
 * them; while Redis cannot be reached each process counts on its own in memory (the insurance
 * limiter, same points and window), so requests are still limited and still served. Without a
 * store the counters stay in memory: replicas each allow the limit.
 */
export function createRateLimiter(options: RateLimitOptions): RateLimiterAbstract {
  const duration = options.durationSeconds ?? 60;
  const memory = new RateLimiterMemory({ points: options.points, duration, keyPrefix: options.keyPrefix });
  if (!options.store) return memory;
  return new RateLimiterRedis({
    // ioredis, the package's default client (no `useRedisPackage`).
    storeClient: options.store.client,
    // While the connection is not ready, count in memory at once rather than try Redis.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
    points: options.points,
    duration,
    keyPrefix: `${options.store.keyPrefix}:${options.keyPrefix}`,
  });
}

function setHeaders(res: Response, limit: number, state: RateLimiterRes): void {
  res.setHeader('x-ratelimit-limit', String(limit));
  res.setHeader('x-ratelimit-remaining', String(Math.max(0, state.remainingPoints)));
  res.setHeader('x-ratelimit-reset', String(Math.ceil(state.msBeforeNext / 1000)));
}

/**
 * Counts the request against `keyOf(...)` and answers 429 (error body, `Retry-After`) once
 * the window is used up. `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds until the
 * window restarts) go on every response it sees. Should a limiter fail all the same, the
 * request passes (a limiter outage must not become an API outage) and the log says so.
 */
export function rateLimit(
  limiter: RateLimiterAbstract,
  keyOf: (res: Response, remoteAddress: string) => string | undefined,
  log: Logger,
): RequestHandler {
  return async (req, res, next) => {
    const key = keyOf(res, req.socket.remoteAddress ?? 'unknown');
    if (key === undefined) return next();
    try {
      setHeaders(res, limiter.points, await limiter.consume(key));
      next();
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        log.warn({ err: rejection }, 'rate limiter failed; request let through');
        return next();
      }
      setHeaders(res, limiter.points, rejection);
      res.setHeader('retry-after', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
      sendError(res, new EcsError(ErrorCode.RateLimited, 'too many requests; retry after the time in Retry-After'));
    }
  };
}
