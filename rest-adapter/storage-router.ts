import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Dispatcher } from 'undici';
import { GATEWAY_ONLY_INTEGRITY_HEADERS } from '../lib/domain/governance-headers';
import { objectKeyProblem } from '../lib/domain/object-key';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';
import { streamFailed, streamToPlane } from './plane-stream';
import type { PlaneStreamOptions } from './plane-stream';

export interface StorageRouterOptions extends PlaneStreamOptions {
  authenticate: RequestHandler;
}

const OBJECT_PATH = /^\/[^/]+\/objects(?:\/.*)?$/;
/** Where the gateway mounts this router. */
export const STORAGE_MOUNT = '/v1/storage';

/** True for an app-level path this router streams (`/v1/storage/{bucket}/objects...`): its body may be gigabytes. */
export function isObjectPath(path: string): boolean {
  return path.startsWith(`${STORAGE_MOUNT}/`) && OBJECT_PATH.test(path.slice(STORAGE_MOUNT.length));
}
/**
 * Request headers the data plane needs; everything else (credentials included) stays here, and
 * so does the S3 endpoint's own integrity-from-trailer header, which no client may send.
 */
const FORWARDED_REQUEST = /^(x-eosc-[a-z0-9-]+|x-amz-meta-[!#$%&'*+.^_`|~0-9a-z-]+|content-type|content-length|x-correlation-id)$/;
const GATEWAY_ONLY_REQUEST = new Set<string>(GATEWAY_ONLY_INTEGRITY_HEADERS);
/** Response headers passed back to the client. */
const FORWARDED_RESPONSE = /^(x-eosc-[a-z0-9-]+|x-amz-meta-[!#$%&'*+.^_`|~0-9a-z-]+|content-type|content-length|etag|last-modified)$/;

/**
 * `/v1/storage/{bucket}/objects[/{key}]`: authenticates, then streams the request to the
 * data plane over mTLS with the caller's signed identity, and streams the answer back.
 * Nothing is buffered; the data plane validates, stores, and writes the evidence.
 * Other `/v1/storage/...` paths (buckets) fall through to the generic REST router.
 */
export function createStorageRouter(options: StorageRouterOptions): Router {
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!OBJECT_PATH.test(req.path)) return next();
    // The URL to the data plane is built from this path: dot segments (raw or encoded) or
    // backslashes would be resolved by URL parsing and could leave the storage routes.
    if (!pathIsPlain(req.path)) {
      sendError(
        res,
        new EcsError(ErrorCode.InvalidObjectKey, 'the object key holds . or .. segments, backslashes or invalid percent-encoding'),
      );
      return;
    }
    // The data plane checks the key again; refused here, it never leaves the gateway.
    const problem = keyProblem(req.path);
    if (problem) {
      sendError(res, new EcsError(ErrorCode.InvalidObjectKey, problem, { field: 'key' }));
      return;
    }
    options.authenticate(req, res, (error?: unknown) => {
      if (error) return next(error);
      forward(options, req, res).catch(streamFailed(res, 'data'));
    });
  });
  return router;
}

async function forward(options: StorageRouterOptions, req: Request, res: Response): Promise<void> {
  if (!['PUT', 'POST', 'GET', 'HEAD', 'DELETE'].includes(req.method)) {
    sendError(res, new EcsError(ErrorCode.BadRequest, `${req.method} is not supported on storage objects`));
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || !FORWARDED_REQUEST.test(name) || GATEWAY_ONLY_REQUEST.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  await streamToPlane(options, res, {
    plane: 'data',
    // req.url is relative to the /v1/storage mount and keeps the raw (encoded) key and query.
    path: `/data/storage${req.url}`,
    method: req.method as Dispatcher.HttpMethod,
    headers,
    body: req.method === 'PUT' || req.method === 'POST' ? req : undefined,
    forwardedResponse: FORWARDED_RESPONSE,
  });
}

/** What is wrong with the object key of a (plain) object path, if it names one. */
function keyProblem(rawPath: string): string | undefined {
  const rawKey = /^\/[^/]+\/objects\/(.+)$/.exec(rawPath)?.[1];
  return rawKey === undefined ? undefined : objectKeyProblem(decodeURIComponent(rawKey));
}

function pathIsPlain(rawPath: string): boolean {
  if (rawPath.includes('\\')) return false;
  for (const segment of rawPath.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false;
    }
    if (decoded === '.' || decoded === '..' || decoded.includes('\\')) return false;
  }
  return true;
}
