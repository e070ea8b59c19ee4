import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import { IDENTITY_HEADER } from '../lib/auth/identity-token';
import type { IdentityTokens } from '../lib/auth/identity-token';
import type { Plane } from '../lib/config/config';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';

export interface ExportBundleRouterOptions {
  authenticate: RequestHandler;
  identityTokens: IdentityTokens;
  /** GraphQL endpoint of each plane; the audit plane's bundle route lives on the same origin. */
  subgraphUrl(plane: Plane): string;
  /** The mTLS keep-alive pool to the planes (no overall timeout: a large bundle takes long). */
  dispatcher: Dispatcher;
}

const BUNDLE_PATH = /^\/(exp-[0-9a-f-]{36})\/bundle$/;
/** Response headers passed back to the client. */
const FORWARDED_RESPONSE = /^(content-type|content-disposition|etag|cache-control|x-ecs-[a-z-]+)$/;

/**
 * `GET /v1/exports/{id}/bundle`: authenticates, then streams the audit plane's answer
 * (the bundle as `.tar.gz`, or an error body) back over mTLS with the caller's signed
 * identity. Nothing is buffered; the audit plane authorises and builds the stream.
 * Mount it at `/v1/exports` before the REST router; other paths fall through.
 */
export function createExportBundleRouter(options: ExportBundleRouterOptions): Router {
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!req.path.endsWith('/bundle')) return next();
    options.authenticate(req, res, (error?: unknown) => {
      if (error) return next(error);
      const match = BUNDLE_PATH.exec(req.path);
      if (req.method !== 'GET') return sendError(res, new EcsError(ErrorCode.NotFound, `no route for ${req.method} ${req.originalUrl.split('?')[0]!}`));
      if (!match) return sendError(res, new EcsError(ErrorCode.NotFound, 'no such export'));
      forward(options, match[1]!, res).catch((cause: unknown) => {
        (res.locals as Partial<AuthenticatedLocals>).log?.warn({ err: cause }, 'bundle stream failed');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendError(res, new EcsError(ErrorCode.DependencyUnavailable, 'the audit plane is not reachable'));
      });
    });
  });
  return router;
}

async function forward(options: ExportBundleRouterOptions, exportId: string, res: Response): Promise<void> {
  const { caller, requestId } = res.locals as AuthenticatedLocals;
  const target = new URL(`/audit/exports/${exportId}/bundle`, options.subgraphUrl('audit'));
  const abort = new AbortController();
  const onClientGone = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClientGone);
  try {
    const upstream = await request(target, {
      method: 'GET',
      headers: { 'x-request-id': requestId, [IDENTITY_HEADER]: await options.identityTokens.sign(caller, 'audit') },
      dispatcher: options.dispatcher,
      signal: abort.signal,
    });
    res.status(upstream.statusCode);
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && FORWARDED_RESPONSE.test(name)) res.setHeader(name, value);
    }
    await pipeline(upstream.body, res);
  } finally {
    res.off('close', onClientGone);
  }
}
