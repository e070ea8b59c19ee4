import type { ApolloServer } from '@apollo/server';
import express from 'express';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { GatewayContext } from '../../gateway/gateway-context';
import { objectKeyProblem } from '../../lib/domain/object-key';
import { EcsError, ErrorCode } from '../../lib/errors';
import { S3Error } from '../../lib/s3/s3-error';
import type { PlaneStreamOptions } from '../plane-stream';
import { copyObject } from './s3-copy-object';
import { deleteObjects } from './s3-delete-objects';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './s3-bucket-operations';
import { answerFor, type S3Subject, sendS3Error } from './s3-error-document';
import { isListMultipartUploads, listMultipartUploads } from './s3-list-multipart-uploads';
import { listObjectsV1, listObjectsV2 } from './s3-list-objects';
import { multipartOperation } from './s3-multipart-operations';
import { objectLockOperation } from './s3-lock-operations';
import { uploadPartCopy } from './s3-upload-part-copy';
import { bucketVersionOperation } from './s3-version-operations';
import { deleteObject, getObject, headObject, putObject, type S3ObjectTarget } from './s3-object-operations';

export interface S3RouterOptions extends PlaneStreamOptions {
  apollo: ApolloServer<GatewayContext>;
  /** SigV4 authentication, then the principal's limits and the input boundary. */
  authenticate: RequestHandler;
}

/** Query parameters that select no operation: the SDK's `x-id` and a presigned URL's own. */
const NEUTRAL_PARAMETER = /^(x-id|x-amz-[a-z0-9-]+)$/i;
const LIST_V2_PARAMETERS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'continuation-token',
  'start-after',
  'max-keys',
  'encoding-type',
  'fetch-owner',
]);
const LIST_V1_PARAMETERS = new Set(['prefix', 'delimiter', 'marker', 'max-keys', 'encoding-type']);
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

interface S3Target {
  subject: S3Subject;
  bucket?: string;
  key?: string;
  resource: string;
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** What a path-style request names: `/` the service, `/bucket` a bucket, `/bucket/key` an object. */
function targetOf(req: Request): S3Target {
  const rawPath = req.url.split('?')[0]!;
  const slash = rawPath.indexOf('/', 1);
  const rawBucket = slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash);
  if (rawBucket === '') return { subject: 'service', resource: '/' };
  const bucket = decodeSegment(rawBucket);
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.');
  const rawKey = slash === -1 ? '' : rawPath.slice(slash + 1);
  if (rawKey === '') return { subject: 'bucket', bucket, resource: `/${bucket}` };
  const key = decodeSegment(rawKey);
  const problem = objectKeyProblem(key);
  if (problem) throw new EcsError(ErrorCode.InvalidObjectKey, problem, { field: 'key' });
  return { subject: 'object', bucket, key, resource: `/${bucket}/${key}` };
}

function operationParameters(req: Request): string[] {
  return Object.keys(req.query).filter((name) => !NEUTRAL_PARAMETER.test(name));
}

function isPartUpload(parameters: string[]): boolean {
  return parameters.length === 2 && parameters.includes('partNumber') && parameters.includes('uploadId');
}

function notImplemented(what: string): S3Error {
  return new S3Error('NotImplemented', `${what} is not implemented by this endpoint yet.`);
}

async function dispatch(options: S3RouterOptions, req: Request, res: Response, target: S3Target): Promise<void> {
  const parameters = operationParameters(req);
  const method = req.method;
  if (target.subject === 'service') {
    if (method === 'GET' && parameters.length === 0) return listBuckets(options.apollo, req, res);
    throw notImplemented(`${method} on the service`);
  }
  const bucket = target.bucket!;
  if (target.subject === 'bucket') {
    if (parameters.length === 0 && method === 'PUT') return createBucket(options.apollo, bucket, req, res);
    if (parameters.length === 0 && method === 'HEAD') return headBucket(options.apollo, bucket, res);
    if (method === 'GET' && parameters.length === 1 && parameters[0] === 'location') return getBucketLocation(options.apollo, bucket, res);
    if (parameters.length === 0 && method === 'DELETE') return deleteBucket(options, bucket, res);
    if (isListMultipartUploads(method, parameters)) return listMultipartUploads(options, bucket, req, res);
    if (method === 'GET' && req.query['list-type'] === '2' && parameters.every((name) => LIST_V2_PARAMETERS.has(name))) {
      return listObjectsV2(options, bucket, req, res);
    }
    if (method === 'GET' && req.query['list-type'] === undefined && parameters.every((name) => LIST_V1_PARAMETERS.has(name))) {
      return listObjectsV1(options, bucket, req, res);
    }
    if (method === 'POST' && parameters.length === 1 && parameters[0] === 'delete') return deleteObjects(options, bucket, req, res);
    const versionOperation = bucketVersionOperation(method, parameters);
    if (versionOperation) return versionOperation(options, bucket, req, res);
    throw notImplemented(`${method}${parameters.length ? ` ?${parameters.join('&')}` : ''} on a bucket`);
  }
  const versionId = typeof req.query.versionId === 'string' ? req.query.versionId : undefined;
  const object: S3ObjectTarget = { bucket, key: target.key!, resource: target.resource, ...(versionId !== undefined ? { versionId } : {}) };
  const lockOperation = objectLockOperation(method, parameters);
  if (lockOperation) return lockOperation(options, req, res, object);
  if (method === 'PUT' && req.headers['x-amz-copy-source'] !== undefined && isPartUpload(parameters)) {
    return uploadPartCopy(options, req, res, object);
  }
  const multipart = multipartOperation(method, parameters, req);
  if (multipart) return multipart(options, req, res, object);
  if (parameters.some((name) => name !== 'versionId')) throw notImplemented(`?${parameters.join('&')} on an object`);
  if (method === 'PUT' && req.headers['x-amz-copy-source'] === undefined) return putObject(options, req, res, object);
  if (method === 'PUT') return copyObject(options, req, res, object);
  if (method === 'GET') return getObject(options, req, res, object);
  if (method === 'HEAD') return headObject(options, req, res, object);
  if (method === 'DELETE') return deleteObject(options, req, res, object);
  throw notImplemented(`${method} on an object`);
}

/**
 * The S3 wire protocol (path style) over the governed data plane: SigV4-authenticated
 * requests translated onto the same data plane routes, governance and evidence as
 * `/v1/storage`, bodies streamed both ways. Anything not offered answers `NotImplemented`.
 */
export function createS3Router(options: S3RouterOptions): Router {
  const router = express.Router();
  router.use((req, res) => {
    let target: S3Target = { subject: 'service', resource: req.path };
    const fail = (error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendS3Error(res, answerFor(error, target.subject), target.resource);
    };
    options.authenticate(req, res, (error?: unknown) => {
      if (error) return fail(error);
      try {
        target = targetOf(req);
      } catch (refusal) {
        return fail(refusal);
      }
      dispatch(options, req, res, target).catch(fail);
    });
  });
  return router;
}
