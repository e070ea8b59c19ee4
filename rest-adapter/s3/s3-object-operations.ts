import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { S3Locals } from '../../gateway/s3-authenticate';
import { S3Error } from '../../lib/s3/s3-error';
import type { PlaneStreamOptions } from '../plane-stream';
import { smallAnswerBody } from '../plane-stream';
import { ByteRangeFilter, parseRange } from './byte-range';
import { evaluateConditions, hasConditions } from './conditional-request';
import { EVIDENCE_POINTER_HEADER, type S3ErrorAnswer, fromEcsCode, sendS3Error } from './s3-error-document';
import { governanceHeadersOf, metadataHeadersOf, userMetadataRequestHeaders } from './s3-governance-headers';
import { type PlaneAnswer, dataPlaneRequest, planeError } from './s3-plane-request';
import { PLANE_S3_ETAG_HEADER, contentMd5Of, isContentMd5Mismatch, s3EtagOf, uploadBody } from './s3-upload-body';

/** An object an S3 request names: the bucket and the (decoded, checked) key. */
export interface S3ObjectTarget {
  bucket: string;
  key: string;
  /** `/bucket/key` as the client named it, for error documents. */
  resource: string;
  /** `?versionId=`: the version read, deleted or governed instead of the current one. */
  versionId?: string;
}

const OBJECT_RESPONSE_HEADERS = ['content-type', 'content-length', 'last-modified'] as const;

export function planePath(target: S3ObjectTarget): string {
  const path = `/data/storage/${encodeURIComponent(target.bucket)}/objects/${target.key.split('/').map(encodeURIComponent).join('/')}`;
  return target.versionId === undefined ? path : `${path}?version_id=${encodeURIComponent(target.versionId)}`;
}

export async function refuseFromPlane(res: Response, answer: PlaneAnswer, target: S3ObjectTarget): Promise<void> {
  const error = await planeError(answer);
  if (isContentMd5Mismatch(error))
    return sendS3Error(
      res,
      {
        code: 'BadDigest',
        status: 400,
        message: 'The Content-MD5 you specified did not match what we received.',
        evidencePointer: error.evidencePointer,
      },
      target.resource,
    );
  if (target.versionId !== undefined && error.code === 'ECS_NOT_FOUND' && !/^bucket /i.test(error.message))
    return sendS3Error(res, { code: 'NoSuchVersion', status: 404, message: 'The specified version does not exist.' }, target.resource);
  sendS3Error(res, fromEcsCode(error.code, error.message, 'object', error.evidencePointer), target.resource);
}

/** PutObject: the governance headers (or their user-metadata names) and the bytes, streamed to the data plane. */
export async function putObject(options: PlaneStreamOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const { s3 } = res.locals as S3Locals;
  const contentMd5 = contentMd5Of(req);
  const upload = uploadBody(req, s3);
  const headers: Record<string, string> = {
    ...governanceHeadersOf(req.headers, s3.payload),
    ...userMetadataRequestHeaders(req.headers),
    ...contentMd5,
  };
  headers['content-type'] = req.headers['content-type'] ?? 'application/octet-stream';
  if (upload.contentLength !== undefined) headers['content-length'] = upload.contentLength;
  let answer: PlaneAnswer;
  try {
    answer = await dataPlaneRequest(options, res, { path: planePath(target), method: 'PUT', headers, body: upload.body });
  } catch (error) {
    throw upload.failure() ?? error;
  }
  if (!req.readableEnded) {
    res.setHeader('connection', 'close');
    req.unpipe();
    req.resume();
  }
  if (answer.statusCode >= 300) return refuseFromPlane(res, answer, target);
  await answer.body.dump();
  const failure = upload.failure();
  if (failure) throw failure;
  const etag = s3EtagOf(answer.headers);
  if (etag) res.setHeader('etag', etag);
  for (const name of [EVIDENCE_POINTER_HEADER, 'x-eosc-version-id']) {
    const value = answer.headers[name];
    if (typeof value === 'string') res.setHeader(name, value);
  }
  const versionId = answer.headers['x-eosc-version-id'];
  if (typeof versionId === 'string') res.setHeader('x-amz-version-id', versionId);
  res.status(200).end();
}

function copyObjectHeaders(res: Response, answer: PlaneAnswer): void {
  for (const name of OBJECT_RESPONSE_HEADERS) {
    const value = answer.headers[name];
    if (value !== undefined) res.setHeader(name, value);
  }
  const etag = s3EtagOf(answer.headers);
  if (etag) res.setHeader('etag', etag);
  // S3's ETag is the ETag here, not metadata.
  const { [PLANE_S3_ETAG_HEADER]: _s3Etag, ...planeHeaders } = answer.headers;
  for (const [name, value] of Object.entries(metadataHeadersOf(planeHeaders))) res.setHeader(name, value);
  const versionId = answer.headers['x-eosc-version-id'];
  if (typeof versionId === 'string') res.setHeader('x-amz-version-id', versionId);
  res.setHeader('accept-ranges', 'bytes');
}

/** HeadObject, also the condition check of a conditional GetObject (HEAD writes no evidence). */
export async function headObject(options: PlaneStreamOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const answer = await dataPlaneRequest(options, res, { path: planePath(target), method: 'HEAD', headers: {} });
  await answer.body.dump();
  if (answer.statusCode >= 300)
    return sendS3Error(
      res,
      fromEcsCode(answer.statusCode === 404 ? 'ECS_NOT_FOUND' : 'ECS_FORBIDDEN', 'not found or not allowed', 'object'),
      target.resource,
    );
  const outcome = conditionOutcome(req, answer);
  if (outcome === 'precondition-failed')
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  copyObjectHeaders(res, answer);
  res.status(outcome === 'not-modified' ? 304 : 200).end();
}

function conditionOutcome(req: Request, answer: PlaneAnswer) {
  const etag = s3EtagOf(answer.headers);
  const lastModified = answer.headers['last-modified'];
  if (etag === undefined || typeof lastModified !== 'string') return 'proceed' as const;
  return evaluateConditions(req.headers, etag, new Date(lastModified));
}

/** GetObject with `Range` and the conditional headers; the bytes stream through, a range is cut from the stream. */
export async function getObject(options: PlaneStreamOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  if (hasConditions(req.headers)) {
    const probe = await dataPlaneRequest(options, res, { path: planePath(target), method: 'HEAD', headers: {} });
    await probe.body.dump();
    if (probe.statusCode < 300) {
      const outcome = conditionOutcome(req, probe);
      if (outcome === 'precondition-failed')
        throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      if (outcome === 'not-modified') {
        copyObjectHeaders(res, probe);
        res.removeHeader('content-length');
        res.status(304).end();
        return;
      }
    }
  }
  const answer = await dataPlaneRequest(options, res, { path: planePath(target), method: 'GET', headers: {} });
  if (answer.statusCode >= 300) return refuseFromPlane(res, answer, target);
  const size = Number(answer.headers['content-length']);
  let range: ReturnType<typeof parseRange>;
  try {
    range = Number.isSafeInteger(size) ? parseRange(req.headers.range, size) : undefined;
  } catch (error) {
    await answer.body.dump();
    res.setHeader('content-range', `bytes */${size}`);
    throw error;
  }
  if (!range) {
    // Read before the headers are set, so that an answer cut short is still an error.
    const whole = await smallAnswerBody(answer);
    copyObjectHeaders(res, answer);
    res.status(200);
    if (whole) res.end(whole);
    else await pipeline(answer.body, res);
    return;
  }
  copyObjectHeaders(res, answer);
  res.status(206);
  res.setHeader('content-range', `bytes ${range.start}-${range.end}/${size}`);
  res.setHeader('content-length', String(range.end - range.start + 1));
  await sendRange(answer.body, new ByteRangeFilter(range), res);
}

/**
 * Streams the range to the client, then stops reading the object. Not a `pipeline`: cutting
 * the upstream short once the range is sent would make it destroy the response too, and with
 * it the client's kept-alive socket (the next request on it would fail).
 */
function sendRange(upstream: Readable, filter: ByteRangeFilter, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = (): void => {
      upstream.unpipe(filter);
      upstream.destroy();
    };
    filter.once('end', stop);
    res.once('close', () => {
      stop();
      if (res.writableFinished) resolve();
      else reject(new Error('the client went away during a ranged GET'));
    });
    upstream.once('error', (error) => {
      if (filter.readableEnded) return;
      res.destroy(error);
    });
    upstream.pipe(filter).pipe(res);
  });
}

/** What deleting one key came to: done (with the version the data plane names), or an S3 error. */
export type DeleteOutcome = { ok: true; versionId?: string; evidencePointer?: string } | { ok: false; error: S3ErrorAnswer };

/** Deletes one key through the data plane: a missing key counts as deleted, as S3 has it; locks and refusals are errors. */
export async function deleteThroughPlane(options: PlaneStreamOptions, res: Response, target: S3ObjectTarget): Promise<DeleteOutcome> {
  const answer = await dataPlaneRequest(options, res, { path: planePath(target), method: 'DELETE', headers: {} });
  if (answer.statusCode >= 300) {
    const error = await planeError(answer);
    const bucketMissing = /^bucket /i.test(error.message);
    if (answer.statusCode === 404 && !bucketMissing) return { ok: true };
    return { ok: false, error: fromEcsCode(error.code, error.message, bucketMissing ? 'bucket' : 'object', error.evidencePointer) };
  }
  await answer.body.dump();
  const pointer = answer.headers[EVIDENCE_POINTER_HEADER];
  const versionId = answer.headers['x-eosc-version-id'];
  return {
    ok: true,
    ...(typeof versionId === 'string' ? { versionId } : {}),
    ...(typeof pointer === 'string' ? { evidencePointer: pointer } : {}),
  };
}

/** DeleteObject: S3 answers 204 whether or not the key existed; locks and refusals come back as errors. */
export async function deleteObject(options: PlaneStreamOptions, _req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const outcome = await deleteThroughPlane(options, res, target);
  if (!outcome.ok) return sendS3Error(res, outcome.error, target.resource);
  if (outcome.evidencePointer) res.setHeader(EVIDENCE_POINTER_HEADER, outcome.evidencePointer);
  if (outcome.versionId) res.setHeader('x-amz-version-id', outcome.versionId);
  res.status(204).end();
}
