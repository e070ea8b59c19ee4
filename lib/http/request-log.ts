import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { markCorrelation } from '../telemetry/tracing';
import { requestIdFrom } from './request-id';

export interface RequestLocals {
  requestId: string;
  log: Logger;
}

/** Gives each request an id (kept from `X-Request-Id` when sane), returns it, and logs one line when done. */
export function requestLog(log: Logger, observe?: (req: Request, res: Response, seconds: number) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    // Captured now: routers mounted on a prefix rewrite req.path while they run.
    const path = req.path;
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const locals = res.locals as RequestLocals;
    locals.requestId = requestId;
    locals.log = log.child({ requestId });
    res.setHeader('x-request-id', requestId);
    markCorrelation(requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      observe?.(req, res, seconds);
      locals.log.info({ method: req.method, path, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 }, 'request');
    });
    next();
  };
}
