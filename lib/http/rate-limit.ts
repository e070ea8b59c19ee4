import type { RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterPrisma, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Database } from '../db/database';
import { EcsError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { sendError } from './error-body';

export interface RateLimitOptions {
  db: Database;
  /** Requests allowed per window. */
  points: number;
  /** Window length in seconds. @default 60 */
  durationSeconds?: number;
  keyPrefix: string;
}

/**
 * A request limiter. On PostgreSQL its counters live in the database (table
 * `gateway_rate_limits`), so every gateway replica shares them; the embedded database
 * belongs to one process, so there they stay in memory and cost no query.
 */
export function createRateLimiter(options: RateLimitOptions): RateLimiterAbstract {
  if (options.db.kind === 'pglite') {
    return new RateLimiterMemory({ points: options.points, duration: options.durationSeconds ?? 60, keyPrefix: options.keyPrefix });
  }
  return new RateLimiterPrisma({
    storeClient: options.db.prisma,
    tableName: 'rateLimit',
    points: options.points,
    duration: options.durationSeconds ?? 60,
    keyPrefix: options.keyPrefix,
    clearExpiredByTimeout: false,
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
 * window restarts) go on every response it sees. When the store cannot be reached the
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
        log.warn({ err: rejection }, 'rate limiter store unavailable; request let through');
        return next();
      }
      setHeaders(res, limiter.points, rejection);
      res.setHeader('retry-after', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
      sendError(res, new EcsError(ErrorCode.RateLimited, 'too many requests; retry after the time in Retry-After'));
    }
  };
}
