import type { Request, RequestHandler } from 'express';
import { EcsError, ErrorCode } from '../lib/errors';
import { declaresBody } from '../lib/http/body-deadline';
import { sendError } from '../lib/http/error-body';
import type { AuthenticatedLocals } from './authenticate';
import { PrincipalConnections } from './subscriptions/principal-connections';

export interface BodySlotOptions {
  /** Request bodies one principal may have arriving at once in this process. */
  perPrincipal: number;
  /** Seconds a refused caller is told to wait (a slot frees at the latest when a body times out). */
  retryAfterSeconds: number;
}

/**
 * Caps the request bodies each principal (token subject or API key) may have arriving at
 * once: every one holds a connection until it is complete or times out, so one principal
 * with many slow bodies would hold the server's connections. Over the cap the answer is 429
 * (`ECS_RATE_LIMITED`, `Retry-After`) and the connection is closed rather than its body read.
 * Runs after authentication; a slot is given back once the body is read or the response ends.
 */
export function bodySlots(options: BodySlotOptions): RequestHandler {
  const slots = new PrincipalConnections(options.perPrincipal);
  const counted = new WeakSet<Request>();
  return (req, res, next) => {
    const { caller } = res.locals as Partial<AuthenticatedLocals>;
    if (!caller || counted.has(req) || !declaresBody(req)) return next();
    const release = slots.acquire(caller);
    if (!release) {
      res.setHeader('retry-after', String(options.retryAfterSeconds));
      res.setHeader('connection', 'close');
      sendError(
        res,
        new EcsError(
          ErrorCode.RateLimited,
          'too many request bodies of this caller are still arriving; retry after the time in Retry-After',
        ),
      );
      return;
    }
    counted.add(req);
    req.once('end', release);
    res.once('close', release);
    next();
  };
}
