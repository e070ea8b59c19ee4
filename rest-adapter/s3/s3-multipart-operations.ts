import type { IncomingHttpHeaders } from 'node:http';
import { clientUrlOf } from '../../gateway/s3-client-url';
import { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import type { S3Locals } from '../../gateway/s3-authenticate';
import { S3Error } from '../../lib/s3/s3-error';
import type { PlaneStreamOptions } from '../plane-stream';
import { readCompletionParts, type ListedPart } from './s3-complete-multipart-body';
import { EVIDENCE_POINTER_HEADER, fromEcsCode, sendS3Error } from './s3-error-document';
import { governanceHeadersOf, userMetadataRequestHeaders, vouchedIntegrityHeaders } from './s3-governance-headers';
import type { S3ObjectTarget } from './s3-object-operations';
import { type PlaneAnswer, dataPlaneRequest, planeError } from './s3-plane-request';
import { contentMd5Of, isContentMd5Mismatch, uploadBody } from './s3-upload-body';
import { xmlDocument } from './s3-xml';

/** An S3 operation on an object, dispatched by the router. */
export type S3ObjectOperation = (options: PlaneStreamOptions, req: Request, res: Response, target: S3ObjectTarget) => Promise<void>;

export interface PlanePart {
  part_number: number;
  /** The part's SHA-256. */
  etag: string;
  /** The part's S3 ETag: its MD5 (its SHA-256 when stored before MD5s were recorded). */
  s3_etag?: string;
  size: number;
}

/** The ETag S3 clients know a part by (unquoted). */
export function partEtag(part: PlanePart): string {
  return part.s3_etag ?? part.etag;
}

const MAX_PART_NUMBER = 10_000;
const LIST_PARTS_PARAMETERS = new Set(['uploadId', 'max-parts', 'part-number-marker', 'encoding-type']);
/** A part's ETag: its MD5, or the SHA-256 of a part stored before MD5s were recorded. */
const ETAG = /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/;
/** The data plane reads control bodies of at most 64 KiB. */
const MAX_PLANE_COMPLETION_BYTES = 60_000;

function planePath(target: S3ObjectTarget, query: Record<string, string>): string {
  const key = target.key.split('/').map(encodeURIComponent).join('/');
  const search = new URLSearchParams(query).toString().replace(/=(&|$)/g, '$1');
  return `/data/storage/${encodeURIComponent(target.bucket)}/objects/${key}?${search}`;
}

function noSuchUpload(): S3Error {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  );
}

function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

/** `uploadId` of the query; `NoSuchUpload` when absent or longer than any id. */
export function uploadIdOf(req: Request): string {
  const id = queryText(req, 'uploadId');
  if (!id || id.length > 64) throw noSuchUpload();
  return id;
}

function boundedNumber(req: Request, name: string, fallback: number, min: number, max: number): number {
  const text = queryText(req, name);
  if (text === undefined) return fallback;
  const value = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new S3Error('InvalidArgument', `${name} must be an integer between ${min} and ${max}`);
  return value;
}

/** `partNumber` of the query: 1..10,000 (`InvalidArgument` otherwise). */
export function partNumberOf(req: Request): number {
  return boundedNumber(req, 'partNumber', 0, 1, MAX_PART_NUMBER);
}

/** A refused plane answer in S3's terms: a closed or unknown upload is `NoSuchUpload`. */
export async function refuseUploadFromPlane(res: Response, answer: PlaneAnswer, target: S3ObjectTarget): Promise<void> {
  const error = await planeError(answer);
  if (error.code === 'EOSC_UPLOAD_NOT_OPEN') throw noSuchUpload();
  if (isContentMd5Mismatch(error)) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  sendS3Error(res, fromEcsCode(error.code, error.message, 'object', error.evidencePointer), target.resource);
}

function sendXml(res: Response, root: string, content: Record<string, unknown>): void {
  res.status(200).type('application/xml');
  res.send(xmlDocument(root, content));
}

/** Request headers without a body checksum: on initiation it would vouch for the empty body, not the object. */
function initiationHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { 'x-amz-checksum-sha256': _bodyChecksum, ...rest } = headers;
  return rest;
}

/**
 * CreateMultipartUpload: the governance headers (or their user-metadata names) as PutObject
 * takes them, checked now by the data plane. The integrity (`x-eosc-integrity` or
 * `x-amz-meta-eosc-integrity`), when declared, is the SHA-256 of the whole object, checked on
 * completion (nothing in the initiating request itself can vouch for it). Without it, every
 * part must vouch for its own bytes (a signed payload, or an `x-amz-checksum-sha256` header or
 * trailer), and the object's integrity is the SHA-256 of the parts assembled.
 */
export async function createMultipartUpload(
  options: PlaneStreamOptions,
  req: Request,
  res: Response,
  target: S3ObjectTarget,
): Promise<void> {
  req.resume();
  const headers = {
    ...governanceHeadersOf(initiationHeaders(req.headers), { kind: 'unsigned' }),
    ...userMetadataRequestHeaders(req.headers),
  };
  headers['content-type'] = req.headers['content-type'] ?? 'application/octet-stream';
  const answer = await dataPlaneRequest(options, res, { path: planePath(target, { uploads: '' }), method: 'POST', headers });
  if (answer.statusCode >= 300) return refuseUploadFromPlane(res, answer, target);
  const body = (await answer.body.json()) as { upload_id: string };
  sendXml(res, 'InitiateMultipartUploadResult', { Bucket: target.bucket, Key: target.key, UploadId: body.upload_id });
}

/** UploadPart: the bytes streamed to the data plane as PutObject streams them, in any payload mode it takes. */
export async function uploadPart(options: PlaneStreamOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const { s3 } = res.locals as S3Locals;
  const partNumber = partNumberOf(req);
  const uploadId = uploadIdOf(req);
  const contentMd5 = contentMd5Of(req);
  const upload = uploadBody(req, s3);
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    ...contentMd5,
    ...vouchedIntegrityHeaders(req.headers, s3.payload),
  };
  if (upload.contentLength !== undefined) headers['content-length'] = upload.contentLength;
  let answer: PlaneAnswer;
  try {
    answer = await dataPlaneRequest(options, res, {
      path: planePath(target, { upload_id: uploadId, part_number: String(partNumber) }),
      method: 'PUT',
      headers,
      body: upload.body,
    });
  } catch (error) {
    throw upload.failure() ?? error;
  }
  if (!req.readableEnded) {
    res.setHeader('connection', 'close');
    req.unpipe();
    req.resume();
  }
  if (answer.statusCode >= 300) return refuseUploadFromPlane(res, answer, target);
  const stored = (await answer.body.json()) as PlanePart;
  const failure = upload.failure();
  if (failure) throw failure;
  res.setHeader('etag', `"${partEtag(stored)}"`);
  res.status(200).end();
}

async function storedParts(options: PlaneStreamOptions, res: Response, target: S3ObjectTarget, uploadId: string) {
  const answer = await dataPlaneRequest(options, res, { path: planePath(target, { upload_id: uploadId }), method: 'GET', headers: {} });
  if (answer.statusCode >= 300) {
    await refuseUploadFromPlane(res, answer, target);
    return undefined;
  }
  return ((await answer.body.json()) as { parts: PlanePart[] }).parts;
}

/** S3's checks of a completion's part list: ascending numbers, each an uploaded part with its ETag. */
function checkListedParts(listed: ListedPart[], stored: PlanePart[]): void {
  const byNumber = new Map(stored.map((part) => [part.part_number, part]));
  let previous = 0;
  for (const part of listed) {
    if (part.partNumber <= previous)
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    previous = part.partNumber;
    const uploaded = byNumber.get(part.partNumber);
    // The part's S3 ETag (its MD5), or its SHA-256, which the data plane also knows it by.
    if (!ETAG.test(part.etag) || !uploaded || (partEtag(uploaded) !== part.etag && uploaded.etag !== part.etag)) {
      throw new S3Error(
        'InvalidPart',
        `One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag (part ${part.partNumber}).`,
      );
    }
  }
}

/**
 * The data plane's completion body: the listed parts, whose ETags it checks again; when that
 * list is past its 64 KiB control-body limit and names every stored part, no list (all parts).
 */
function completionBody(listed: ListedPart[], stored: PlanePart[]): Buffer {
  const body = Buffer.from(JSON.stringify({ parts: listed.map((part) => ({ part_number: part.partNumber, etag: part.etag })) }));
  if (body.length <= MAX_PLANE_COMPLETION_BYTES) return body;
  if (listed.length === stored.length) return Buffer.from('{}');
  throw new S3Error('InvalidArgument', 'Completing with a subset of more than about 600 of the uploaded parts is not supported');
}

/**
 * CompleteMultipartUpload: the XML part list checked against the stored parts, then the data
 * plane assembles them, checks the whole object against the declared integrity and commits the
 * version with its `object.put` evidence (`origin: multipart`). The ETag is S3's: the MD5 of the
 * listed parts' MD5s with a `-N` suffix.
 */
export async function completeMultipartUpload(
  options: PlaneStreamOptions,
  req: Request,
  res: Response,
  target: S3ObjectTarget,
): Promise<void> {
  const { s3 } = res.locals as S3Locals;
  const uploadId = uploadIdOf(req);
  const listed = await readCompletionParts(uploadBody(req, s3).body);
  const stored = await storedParts(options, res, target, uploadId);
  if (!stored) return;
  checkListedParts(listed, stored);
  const answer = await dataPlaneRequest(options, res, {
    path: planePath(target, { upload_id: uploadId }),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Readable.from([completionBody(listed, stored)]),
  });
  if (answer.statusCode >= 300) {
    const error = await planeError(answer);
    if (error.code === 'EOSC_UPLOAD_NOT_OPEN') throw noSuchUpload();
    if (error.code === 'ECS_VALIDATION_FAILED') throw new S3Error('InvalidPart', error.message);
    return sendS3Error(res, fromEcsCode(error.code, error.message, 'object', error.evidencePointer), target.resource);
  }
  const written = (await answer.body.json()) as { etag: string; s3_etag?: string | null; version_id: string; evidence_pointer: string };
  res.setHeader(EVIDENCE_POINTER_HEADER, written.evidence_pointer);
  res.setHeader('x-eosc-version-id', written.version_id);
  sendXml(res, 'CompleteMultipartUploadResult', {
    Location: `${req.protocol}://${req.headers.host ?? 'localhost'}${clientUrlOf(req).split('?')[0]}`,
    Bucket: target.bucket,
    Key: target.key,
    ETag: `"${written.s3_etag ?? written.etag}"`,
  });
}

/** AbortMultipartUpload: the parts are dropped, with `object.multipart.abort` evidence. */
export async function abortMultipartUpload(
  options: PlaneStreamOptions,
  req: Request,
  res: Response,
  target: S3ObjectTarget,
): Promise<void> {
  const uploadId = uploadIdOf(req);
  const answer = await dataPlaneRequest(options, res, { path: planePath(target, { upload_id: uploadId }), method: 'DELETE', headers: {} });
  if (answer.statusCode >= 300) return refuseUploadFromPlane(res, answer, target);
  const pointer = answer.headers[EVIDENCE_POINTER_HEADER];
  if (typeof pointer === 'string') res.setHeader(EVIDENCE_POINTER_HEADER, pointer);
  await answer.body.dump();
  res.status(204).end();
}

/** ListParts with `max-parts` (1..1000) and `part-number-marker`, paged over the data plane's full part list. */
export async function listParts(options: PlaneStreamOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const uploadId = uploadIdOf(req);
  const maxParts = boundedNumber(req, 'max-parts', 1000, 1, 1000);
  const marker = boundedNumber(req, 'part-number-marker', 0, 0, MAX_PART_NUMBER);
  const stored = await storedParts(options, res, target, uploadId);
  if (!stored) return;
  const after = stored.filter((part) => part.part_number > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  const owner = { ID: (res.locals as S3Locals).caller.tenantId ?? '', DisplayName: (res.locals as S3Locals).caller.tenantId ?? '' };
  sendXml(res, 'ListPartsResult', {
    Bucket: target.bucket,
    Key: target.key,
    UploadId: uploadId,
    PartNumberMarker: marker,
    ...(truncated ? { NextPartNumberMarker: page[page.length - 1]!.part_number } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((part) => ({ PartNumber: part.part_number, ETag: `"${partEtag(part)}"`, Size: part.size })),
    Initiator: owner,
    Owner: owner,
    StorageClass: 'STANDARD',
  });
}

/**
 * The multipart operation an object request names, if any: `POST ?uploads`, `PUT
 * ?partNumber&uploadId` (not UploadPartCopy), `POST ?uploadId`, `DELETE ?uploadId`,
 * `GET ?uploadId`. Anything else is left to the router.
 */
export function multipartOperation(method: string, parameters: string[], req: Request): S3ObjectOperation | undefined {
  const named = new Set(parameters);
  const only = (...names: string[]) => named.size === names.length && names.every((name) => named.has(name));
  if (method === 'POST' && only('uploads')) return createMultipartUpload;
  if (method === 'PUT' && only('partNumber', 'uploadId') && req.headers['x-amz-copy-source'] === undefined) return uploadPart;
  if (method === 'POST' && only('uploadId')) return completeMultipartUpload;
  if (method === 'DELETE' && only('uploadId')) return abortMultipartUpload;
  if (method === 'GET' && named.has('uploadId') && parameters.every((name) => LIST_PARTS_PARAMETERS.has(name))) return listParts;
  return undefined;
}
