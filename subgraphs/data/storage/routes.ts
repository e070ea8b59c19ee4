import type { Request, Response, Router } from 'express';
import { FsBlobStore } from '../../../lib/blob-store';
import type { BlobStore } from '../../../lib/blob-store';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { sendError } from '../../../lib/http/error-body';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { PlaneRouteHelpers } from '../../../lib/subgraph/subgraph-app';
import { loadBucket } from './governed';
import { objectKeyProblem } from './governance';
import { abortMultipart, completeUpload, initiateUpload, listUploadParts, uploadPart } from './multipart';
import { deleteObject, putLegalHold, putRetention } from './object-lock';
import { getObject, listBucket, listObjectVersions } from './object-read';
import { COPY_SOURCE_HEADER, copyObject, putObject } from './object-write';
import type { WriteLimits } from './object-write';

/** Path prefix of the raw object routes on the data plane (under `/data`). */
export const STORAGE_ROUTE_PREFIX = '/storage';

const OBJECT_PATH = /^\/([^/]+)\/objects(?:\/(.*))?$/;

/**
 * The data plane's object endpoints, behind the forwarded-identity check, under
 * `/data/storage/{bucket}/objects[/{key}]`; the gateway streams `/v1/storage/...` to them.
 * The query selects the operation (S3's sub-resources, in snake_case):
 *
 * | method | query | operation |
 * |---|---|---|
 * | GET | (no key) `prefix`, `cursor`, `limit` | list current objects |
 * | PUT | | put (or copy with `x-eosc-copy-source`) |
 * | GET, HEAD | `version_id`, `verify_integrity` | read (HEAD: metadata only) |
 * | GET | `versions` | list versions of the key |
 * | DELETE | `version_id` | delete (marker, or one version for good) |
 * | PUT | `legal_hold` | legal hold ON/OFF |
 * | PUT | `retention` | change retention |
 * | POST | `uploads` | start a multipart upload |
 * | PUT | `upload_id`, `part_number` | upload a part |
 * | GET | `upload_id` | list the parts |
 * | POST | `upload_id` | complete the upload |
 * | DELETE | `upload_id` | abort the upload |
 */
export function storageRoutes(router: Router, helpers: PlaneRouteHelpers): void {
  const config = helpers.deps.config;
  const blobs: BlobStore = new FsBlobStore(config?.blobDir ?? 'blobs');
  const limits: WriteLimits = { maxBytes: config?.maxObjectBytes ?? 5 * 1024 ** 3 };

  router.use(STORAGE_ROUTE_PREFIX, (req, res, next) => {
    const match = OBJECT_PATH.exec(req.path);
    if (!match) return next();
    const context = helpers.contextOf(res);
    const handle = async (): Promise<void> => {
      const bucketName = decode(match[1]!);
      const rawKey = match[2];
      if (rawKey === undefined || rawKey === '') {
        if (req.method !== 'GET') throw new EcsError(ErrorCode.BadRequest, `${req.method} is not supported on a bucket's object list`);
        return listBucket(context, req, res, await loadBucket(context, bucketName));
      }
      const key = decode(rawKey);
      const problem = objectKeyProblem(key);
      if (problem) throw new EcsError(ErrorCode.InvalidObjectKey, problem, { field: 'key' });
      const bucket = await loadBucket(context, bucketName);
      const operation = selectOperation(req);
      return operation(context, req, res, bucket, key, blobs, limits);
    };
    handle().catch((error: unknown) => {
      if (!(error instanceof EcsError)) context.log.error({ err: error }, 'storage request failed');
      // A refusal can come before (or while) the body is read: the connection is not reused,
      // and what is left of the upload is discarded.
      if (!req.readableEnded) {
        if (!res.headersSent) res.setHeader('connection', 'close');
        req.resume();
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, error instanceof EcsError ? error : new EcsError(ErrorCode.Internal, 'internal error'));
    });
  });
}

type Operation = (context: PlaneContext, req: Request, res: Response, bucket: Parameters<typeof putObject>[3], key: string, blobs: BlobStore, limits: WriteLimits) => Promise<void>;

function has(req: Request, name: string): boolean {
  return req.query[name] !== undefined;
}

function selectOperation(req: Request): Operation {
  switch (req.method) {
    case 'PUT':
      if (has(req, 'upload_id')) return uploadPart;
      if (has(req, 'legal_hold')) return (context, r, res, bucket, key) => putLegalHold(context, r, res, bucket, key);
      if (has(req, 'retention')) return (context, r, res, bucket, key) => putRetention(context, r, res, bucket, key);
      if (req.headers[COPY_SOURCE_HEADER] !== undefined) return (context, r, res, bucket, key, blobs) => copyObject(context, r, res, bucket, key, blobs);
      return putObject;
    case 'POST':
      if (has(req, 'uploads')) return (context, r, res, bucket, key) => initiateUpload(context, r, res, bucket, key);
      if (has(req, 'upload_id')) return completeUpload;
      throw new EcsError(ErrorCode.BadRequest, 'POST on an object needs ?uploads or ?upload_id=');
    case 'GET':
    case 'HEAD':
      if (req.method === 'GET' && has(req, 'versions')) return (context, r, res, bucket, key) => listObjectVersions(context, r, res, bucket, key);
      if (req.method === 'GET' && has(req, 'upload_id')) return (context, r, res, bucket, key) => listUploadParts(context, r, res, bucket, key);
      return (context, r, res, bucket, key, blobs) => getObject(context, r, res, bucket, key, blobs);
    case 'DELETE':
      if (has(req, 'upload_id')) return (context, r, res, bucket, key) => abortMultipart(context, r, res, bucket, key);
      return (context, r, res, bucket, key) => deleteObject(context, r, res, bucket, key);
    default:
      throw new EcsError(ErrorCode.BadRequest, `${req.method} is not supported on an object`);
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new EcsError(ErrorCode.InvalidObjectKey, 'the path is not valid percent-encoding', { field: 'key' });
  }
}
