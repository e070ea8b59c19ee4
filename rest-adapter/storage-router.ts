import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import { IDENTITY_HEADER } from '../lib/auth/identity-token';
import type { IdentityTokens } from '../lib/auth/identity-token';
import type { Plane } from '../lib/config/config';
import { objectKeyProblem } from '../lib/domain/object-key';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';

export interface StorageRouterOptions {
  authenticate: RequestHandler;
  identityTokens: IdentityTokens;
  /** GraphQL endpoint of each plane; the data plane's object routes live on the same origin. */
  subgraphUrl(plane: Plane): string;
  /** The mTLS keep-alive pool to the planes (no overall timeout: objects may take long to stream). */
  dispatcher: Dispatcher;
}

const OBJECT_PATH = /^\/[^/]+\/objects(?:\/.*)?$/;
/** Where the gateway mounts this router. */
export const STORAGE_MOUNT = '/v1/storage';

/** True for an app-level path this router streams (`/v1/storage/{bucket}/objects...`): its body may be gigabytes. */
export function isObjectPath(path: string): boolean {
  return path.startsWith(`${STORAGE_MOUNT}/`) && OBJECT_PATH.test(path.slice(STORAGE_MOUNT.length));
}
/** Request headers the data plane needs; everything else (credentials included) stays here. */
const FORWARDED_REQUEST = /^(x-eosc-[a-z0-9-]+|content-type|content-length|x-correlation-id)$/;
/** Response headers passed back to the client. */
const FORWARDED_RESPONSE = /^(x-eosc-[a-z0-9-]+|content-type|content-length|etag|last-modified)$/;

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
      sendError(res, new EcsError(ErrorCode.InvalidObjectKey, 'the object key holds . or .. segments, backslashes or invalid percent-encoding'));
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
      forward(options, req, res).catch((cause: unknown) => {
        (res.locals as Partial<AuthenticatedLocals>).log?.warn({ err: cause }, 'storage stream failed');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendError(res, new EcsError(ErrorCode.DependencyUnavailable, 'the data plane is not reachable'));
      });
    });
  });
  return router;
}

async function forward(options: StorageRouterOptions, req: Request, res: Response): Promise<void> {
  const { caller, requestId } = res.locals as AuthenticatedLocals;
  if (!['PUT', 'POST', 'GET', 'HEAD', 'DELETE'].includes(req.method)) {
    sendError(res, new EcsError(ErrorCode.BadRequest, `${req.method} is not supported on storage objects`));
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || !FORWARDED_REQUEST.test(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  headers['x-request-id'] = requestId;
  headers[IDENTITY_HEADER] = await options.identityTokens.sign(caller, 'data');
  // req.url is relative to the /v1/storage mount and keeps the raw (encoded) key and query.
  const target = new URL(`/data/storage${req.url}`, options.subgraphUrl('data'));
  const abort = new AbortController();
  const onClientGone = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClientGone);
  try {
    const upstream = await request(target, {
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: req.method === 'PUT' || req.method === 'POST' ? req : undefined,
      dispatcher: options.dispatcher,
      signal: abort.signal,
    });
    res.status(upstream.statusCode);
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && FORWARDED_RESPONSE.test(name)) res.setHeader(name, value);
    }
    // Refused before the whole upload arrived: answer now and close the client's connection,
    // rather than reading (or leaving unread) the rest of a possibly huge body.
    if (!req.readableEnded && req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('connection', 'close');
      req.unpipe();
      req.resume();
    }
    if (req.method === 'HEAD' || upstream.statusCode === 204) {
      await upstream.body.dump();
      res.end();
      return;
    }
    await pipeline(upstream.body, res);
  } finally {
    res.off('close', onClientGone);
  }
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
