import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';
import { streamFailed, streamToPlane } from './plane-stream';
import type { PlaneStreamOptions } from './plane-stream';

export interface ExportBundleRouterOptions extends PlaneStreamOptions {
  authenticate: RequestHandler;
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
      if (req.method !== 'GET')
        return sendError(res, new EcsError(ErrorCode.NotFound, `no route for ${req.method} ${req.originalUrl.split('?')[0]!}`));
      if (!match) return sendError(res, new EcsError(ErrorCode.NotFound, 'no such export'));
      streamToPlane(options, res, {
        plane: 'audit',
        path: `/audit/exports/${match[1]!}/bundle`,
        method: 'GET',
        forwardedResponse: FORWARDED_RESPONSE,
      }).catch(streamFailed(res, 'audit'));
    });
  });
  return router;
}
