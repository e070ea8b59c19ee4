import type { Request, Response, Router } from 'express';
import { FsBlobStore } from '../../../lib/blob-store';
import type { BlobStore } from '../../../lib/blob-store';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { sendError } from '../../../lib/http/error-body';
import { MalformedInput, refuseMalformedInput } from '../../../lib/evidence/input-refusal';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { Bucket } from '../records/buckets';
import type { PlaneRouteHelpers } from '../../../lib/subgraph/subgraph-app';
import { deleteBucket } from './bucket-operations';
import { loadBucket } from './govern-operation';
import { objectKeyProblem } from './parse-governance';
import { abortMultipart, completeUpload, initiateUpload, listUploadParts, uploadPart } from './multipart';
import { deleteObject, putLegalHold, putRetention } from './object-lock';
import { getObject, listBucket, listObjectVersions } from './object-read';
import { COPY_SOURCE_HEADER, copyObject, putObject } from './object-write';
import type { WriteLimits } from './object-write';
import { listOpenUploads } from './upload-listing';
import { listBucketVersionsRoute } from './version-listing';

/** Path prefix of the raw object routes on the data plane (under `/data`). */
export const STORAGE_ROUTE_PREFIX = '/storage';

const OBJECT_PATH = /^\/([^/]+)\/objects(?:\/(.*))?$/;
const BUCKET_PATH = /^\/([^/]+)\/?$/;

/**
 * The data plane's storage endpoints, behind the forwarded-identity check, under
 * `/data/storage/{bucket}` (the bucket itself) and `/data/storage/{bucket}/objects[/{key}]`;
 * the gateway streams `/v1/storage/{bucket}/objects...` to them, the S3 endpoint calls both.
 * The query selects the operation (S3's sub-resources, in snake_case):
 *
 * | method | query | operation |
 * |---|---|---|
 * | DELETE | (the bucket) | delete an empty bucket |
 * | GET | (no key) `prefix`, `cursor`, `limit` | list current objects |
 * | GET | (no key) `uploads`, `prefix`, `key_marker`, `upload_id_marker`, `max_uploads` | list open multipart uploads |
 * | GET | (no key) `versions`, `prefix`, `key_marker`, `version_id_marker`, `limit` | list every version of the bucket's keys |
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
    const bucketMatch = req.method === 'DELETE' ? BUCKET_PATH.exec(req.path) : null;
    if (bucketMatch) {
      const context = helpers.contextOf(res);
      const rawBucket = bucketMatch[1]!;
      (async () => deleteBucket(context, res, decode(rawBucket)))().catch(failed(helpers, context, req, res, 'bucket'));
      return;
    }
    const match = OBJECT_PATH.exec(req.path);
    if (!match) return next();
    const context = helpers.contextOf(res);
    const handle = async (): Promise<void> => {
      const bucketName = decode(match[1]!);
      const rawKey = match[2];
      if (rawKey === undefined || rawKey === '') return listOperation(req)(context, req, res, await loadBucket(context, bucketName));
      const key = decode(rawKey);
      const problem = objectKeyProblem(key);
      if (problem) throw new EcsError(ErrorCode.InvalidObjectKey, problem, { field: 'key' });
      const bucket = await loadBucket(context, bucketName);
      const operation = selectOperation(req);
      return operation(context, req, res, bucket, key, blobs, limits);
    };
    handle().catch(failed(helpers, context, req, res, 'object'));
  });
}

/**
 * Answers a failed storage request with its error body. A refusal can come before (or while)
 * the body is read: the connection is not reused, and what is left of the upload is discarded.
 */
function failed(
  helpers: PlaneRouteHelpers,
  context: PlaneContext,
  req: Request,
  res: Response,
  target: 'bucket' | 'object',
): (thrown: unknown) => Promise<void> {
  return async (thrown) => {
    const error =
      thrown instanceof MalformedInput
        ? await refuseMalformedInput({
            db: context.db,
            throttle: helpers.deps.throttle,
            caller: context.caller,
            correlationId: context.correlationId,
            request: `${req.method} ${target}`,
            finding: thrown.finding,
          })
        : thrown;
    if (!(error instanceof EcsError)) context.log.error({ err: error }, 'storage request failed');
    if (!req.readableEnded) {
      if (!res.headersSent) res.setHeader('connection', 'close');
      req.resume();
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, error instanceof EcsError ? error : new EcsError(ErrorCode.Internal, 'internal error'));
  };
}

type BucketOperation = (context: PlaneContext, req: Request, res: Response, bucket: Bucket) => Promise<void>;

/** The operation on a bucket's object list: the objects, or (`?uploads`) its open multipart uploads. */
function listOperation(req: Request): BucketOperation {
  if (req.method !== 'GET') throw new EcsError(ErrorCode.BadRequest, `${req.method} is not supported on a bucket's object list`);
  const named = OPERATIONS.filter((name) => has(req, name));
  if (named.length === 0) return listBucket;
  if (named.length === 1 && named[0] === 'uploads') return listOpenUploads;
  if (named.length === 1 && named[0] === 'versions') return listBucketVersionsRoute;
  throw new EcsError(ErrorCode.BadRequest, `${named.join(', ')} is not an operation of GET on a bucket's object list`, { field: 'query' });
}

type Operation = (
  context: PlaneContext,
  req: Request,
  res: Response,
  bucket: Bucket,
  key: string,
  blobs: BlobStore,
  limits: WriteLimits,
) => Promise<void>;

function has(req: Request, name: string): boolean {
  return req.query[name] !== undefined;
}

/** Query parameters that each select an operation (S3's sub-resources); a request names at most one. */
const OPERATIONS = ['legal_hold', 'retention', 'uploads', 'upload_id', 'versions'] as const;

/** The operations each method takes, besides its plain read, write or delete. */
const METHOD_OPERATIONS: Record<string, readonly string[]> = {
  PUT: ['legal_hold', 'retention', 'upload_id', COPY_SOURCE_HEADER],
  POST: ['uploads', 'upload_id'],
  GET: ['versions', 'upload_id'],
  HEAD: [],
  DELETE: ['upload_id'],
};

/** Where `version_id` names the version acted on: reads, deletes, legal hold and retention changes. */
function takesVersionId(method: string, operation: string | undefined): boolean {
  if (method === 'PUT') return operation === 'legal_hold' || operation === 'retention';
  return (method === 'GET' || method === 'HEAD' || method === 'DELETE') && operation === undefined;
}

/**
 * Refuses a request that names more than one operation, or one its method does not take,
 * before anything is read or applied: otherwise one of them would win silently (a legal hold
 * set where a retention change was also asked, a delete where `?legal_hold` was meant).
 */
function assertOneOperation(req: Request): void {
  const named: string[] = OPERATIONS.filter((name) => has(req, name));
  if (req.method === 'PUT' && req.headers[COPY_SOURCE_HEADER] !== undefined) named.push(COPY_SOURCE_HEADER);
  const refuse = (message: string) => new EcsError(ErrorCode.BadRequest, message, { field: 'query' });
  if (named.length > 1) throw refuse(`the request names ${named.length} operations (${named.join(', ')}): send one per request`);
  const operation = named[0];
  if (operation !== undefined && !METHOD_OPERATIONS[req.method]?.includes(operation))
    throw refuse(`${operation} is not an operation of ${req.method} on an object`);
  if (has(req, 'version_id') && !takesVersionId(req.method, operation)) {
    throw refuse(
      `version_id does not go with ${operation ?? `a ${req.method} of the object`}: it names an existing version to read, delete or govern`,
    );
  }
  if (has(req, 'part_number') && !(req.method === 'PUT' && operation === 'upload_id'))
    throw refuse('part_number belongs to a part upload (PUT with upload_id)');
}

function selectOperation(req: Request): Operation {
  assertOneOperation(req);
  switch (req.method) {
    case 'PUT':
      if (has(req, 'upload_id')) return uploadPart;
      if (has(req, 'legal_hold')) return (context, r, res, bucket, key) => putLegalHold(context, r, res, bucket, key);
      if (has(req, 'retention')) return (context, r, res, bucket, key) => putRetention(context, r, res, bucket, key);
      if (req.headers[COPY_SOURCE_HEADER] !== undefined)
        return (context, r, res, bucket, key, blobs) => copyObject(context, r, res, bucket, key, blobs);
      return putObject;
    case 'POST':
      if (has(req, 'uploads')) return (context, r, res, bucket, key) => initiateUpload(context, r, res, bucket, key);
      if (has(req, 'upload_id')) return completeUpload;
      throw new EcsError(ErrorCode.BadRequest, 'POST on an object needs ?uploads or ?upload_id=');
    case 'GET':
    case 'HEAD':
      if (req.method === 'GET' && has(req, 'versions'))
        return (context, r, res, bucket, key) => listObjectVersions(context, r, res, bucket, key);
      if (req.method === 'GET' && has(req, 'upload_id'))
        return (context, r, res, bucket, key) => listUploadParts(context, r, res, bucket, key);
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
