import { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { BlobIntegrityError, BlobMd5MismatchError, BlobTooLargeError } from '../../../lib/blob-store';
import type { BlobStore } from '../../../lib/blob-store';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { Bucket } from '../records/buckets';
import {
  UploadNotOpenError,
  abortUpload,
  closeUpload,
  createUpload,
  findUpload,
  listParts,
  recordPart,
} from '../records/multipart-uploads';
import type { MultipartPart, MultipartUpload } from '../records/multipart-uploads';
import { GOVERNANCE_HEADERS, gatewayVouchedIntegrity } from '../../../lib/domain/governance-headers';
import { govern } from './govern-operation';
import { PER_PART_INTEGRITY, parseDeclaredIntegrity, parseRetention } from './parse-governance';
import { queryText, readJsonBody } from './request-input';
import { S3_ETAG_HEADER, contentMd5Mismatch, declaredMd5, multipartS3Etag } from './s3-etag';
import {
  admitGovernance,
  blobStoreRefusal,
  commitVersion,
  contentTypeOf,
  effectiveRetention,
  refusalFor,
  refuseLockedOverwrite,
  userMetadataFrom,
  versionFields,
  versionTarget,
  writtenBody,
} from './object-write';
import type { WriteLimits } from './object-write';

/** S3's bounds: part numbers 1..10,000. */
export const MAX_PARTS = 10_000;

function uploadIdOf(req: Request): string {
  const id = queryText(req, 'upload_id');
  if (!id || id.length > 64) throw new EcsError(ErrorCode.BadRequest, 'upload_id must be one upload id', { field: 'upload_id' });
  return id;
}

async function openUpload(context: PlaneContext, req: Request, bucket: Bucket, key: string): Promise<MultipartUpload> {
  const uploadId = uploadIdOf(req);
  const upload = await findUpload(context.db, uploadId, bucket.name, key);
  if (upload?.state !== 'open')
    throw new EcsError(ErrorCode.UploadNotOpen, `upload ${uploadId} of ${key} is not open`, { field: 'upload_id' });
  return upload;
}

/**
 * `POST /{bucket}/objects/{key}?uploads` with the governance headers: validated now (the
 * same refusals as a PUT). `x-eosc-integrity` is the hash of the whole object, checked on
 * completion; without it, every part must declare its own SHA-256 (checked as the part is
 * stored), and the object's integrity is the SHA-256 of the parts assembled.
 */
export async function initiateUpload(context: PlaneContext, req: Request, res: Response, bucket: Bucket, key: string): Promise<void> {
  const governed = await govern(context, bucket, { permission: 'storage.write', eventType: 'object.put', requireActive: true });
  const now = new Date();
  const governance = await admitGovernance(context, req, governed, bucket, key, now, { integrityPerPart: true });
  await refuseLockedOverwrite(context, governed, bucket, key, now);
  const fields = versionFields(governance);
  const upload = await createUpload(context.db, {
    ...fields,
    integrity: governance.expectedSha256 === undefined ? null : governance.integrity,
    userMetadata: userMetadataFrom(req),
    bucket: bucket.name,
    key,
    tenantId: bucket.tenantId,
    contentType: contentTypeOf(req.headers['content-type']),
    initiatedBy: governed.evidence.actor,
  });
  res.status(201).json({ bucket: bucket.name, key, upload_id: upload.uploadId });
}

/** `PUT /{bucket}/objects/{key}?upload_id=&part_number=N`: stores one part (replacing an earlier one of that number). */
export async function uploadPart(
  context: PlaneContext,
  req: Request,
  res: Response,
  bucket: Bucket,
  key: string,
  blobs: BlobStore,
  limits: WriteLimits,
): Promise<void> {
  const governed = await govern(context, bucket, { permission: 'storage.write', eventType: 'object.put', requireActive: true });
  const partText = queryText(req, 'part_number') ?? '';
  const partNumber = /^\d{1,5}$/.test(partText) ? Number(partText) : 0;
  if (partNumber < 1 || partNumber > MAX_PARTS)
    throw new EcsError(ErrorCode.BadRequest, `part_number must be 1..${MAX_PARTS}`, { field: 'part_number' });
  const upload = await openUpload(context, req, bucket, key);
  const refuse = refusalFor(context, governed, bucket, key);
  const facts = { upload_id: upload.uploadId, part_number: partNumber };
  const expectedSha256 = await partIntegrity(req, upload, refuse, facts);
  const expectedMd5 = declaredMd5(req);
  let stored;
  try {
    stored = await blobs.put(req, { expectedSha256, expectedMd5, maxBytes: limits.maxBytes });
  } catch (error) {
    if (error instanceof BlobMd5MismatchError)
      throw new EcsError(ErrorCode.BadRequest, contentMd5Mismatch(error.expected, error.actual), { field: 'content-md5' });
    if (error instanceof BlobTooLargeError) throw new EcsError(ErrorCode.ObjectTooLarge, error.message);
    if (error instanceof BlobIntegrityError) {
      throw await refuse(
        'evidence_precondition_failed',
        'integrity_mismatch',
        ErrorCode.IntegrityMismatch,
        `part ${partNumber} hashes to sha256:${error.actual}, not the declared sha256:${expectedSha256}`,
        { ...facts, integrity: `sha256:${expectedSha256}`, computed_integrity: `sha256:${error.actual}`, size: error.size },
      );
    }
    throw await blobStoreRefusal(context, refuse, error, facts);
  }
  try {
    await recordPart(context.db, { uploadId: upload.uploadId, partNumber, sha256: stored.sha256, md5: stored.md5, size: stored.size });
  } catch (error) {
    if (error instanceof UploadNotOpenError)
      throw new EcsError(ErrorCode.UploadNotOpen, `upload ${upload.uploadId} was closed meanwhile`, { field: 'upload_id' });
    throw error;
  }
  res.setHeader('etag', `"${stored.sha256}"`);
  res.setHeader(S3_ETAG_HEADER, stored.md5);
  res.json({ upload_id: upload.uploadId, part_number: partNumber, etag: stored.sha256, s3_etag: stored.md5, size: stored.size });
}

/**
 * The SHA-256 a part must hash to: the one its `x-eosc-integrity` declares. An upload started
 * without the object's integrity takes only parts that vouch for their bytes: a declared SHA-256,
 * or (from the S3 endpoint) a checked `x-amz-checksum-sha256` trailer or checked chunk signatures;
 * any other part is refused with evidence before its bytes are read.
 */
async function partIntegrity(
  req: Request,
  upload: MultipartUpload,
  refuse: ReturnType<typeof refusalFor>,
  facts: Record<string, unknown>,
): Promise<string | undefined> {
  const header = req.headers[GOVERNANCE_HEADERS.integrity];
  const declared = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
  // Only the S3 endpoint sends these headers (the /v1 route never forwards them): see GATEWAY_ONLY_INTEGRITY_HEADERS.
  const vouchedByGateway = gatewayVouchedIntegrity(req.headers) !== undefined;
  if (declared === undefined && (upload.integrity !== null || vouchedByGateway)) return undefined;
  const parsed = parseDeclaredIntegrity(declared);
  if (typeof parsed === 'string') return parsed;
  const message =
    declared === undefined
      ? `${parsed.message}: upload ${upload.uploadId} was started without the object's integrity, so each part declares its SHA-256`
      : parsed.message;
  throw await refuse('evidence_precondition_failed', parsed.reasonCode, parsed.code, message, { ...facts, header: parsed.header });
}

const completeBody = z.strictObject({
  parts: z
    .array(
      z.strictObject({
        part_number: z.number().int().min(1).max(MAX_PARTS),
        etag: z.string().regex(/^"?(?:[0-9a-f]{64}|[0-9a-f]{32})"?$/, 'must be the etag (SHA-256) or s3_etag (MD5) of the part'),
      }),
    )
    .min(1)
    .max(MAX_PARTS)
    .optional(),
});

/** A part's S3 ETag: its MD5, or its SHA-256 when stored before MD5s were recorded. */
function partS3Etag(part: MultipartPart): string {
  return part.md5 ?? part.sha256;
}

/** S3's ETag of the assembled object, when every part's MD5 is known. */
function assembledS3Etag(parts: MultipartPart[]): string | null {
  const md5s = parts.map((part) => part.md5);
  return md5s.every((md5): md5 is string => md5 !== null) ? multipartS3Etag(md5s) : null;
}

/** The parts to assemble: the listed ones (ascending, each matching its stored etag or s3_etag) or all stored parts. */
function chooseParts(stored: MultipartPart[], listed: Array<{ part_number: number; etag: string }> | undefined): MultipartPart[] | string {
  if (stored.length === 0) return 'the upload has no parts';
  if (!listed) return stored;
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const chosen: MultipartPart[] = [];
  let previous = 0;
  for (const item of listed) {
    if (item.part_number <= previous) return 'parts must be listed in ascending part_number order';
    previous = item.part_number;
    const part = byNumber.get(item.part_number);
    if (!part) return `part ${item.part_number} was not uploaded`;
    const etag = item.etag.replace(/"/g, '');
    if (etag !== part.sha256 && etag !== part.md5) return `part ${item.part_number} has another etag`;
    chosen.push(part);
  }
  return chosen;
}

/** The parts' bytes, one after the other, opened lazily. */
function concatenate(blobs: BlobStore, parts: MultipartPart[]): Readable {
  return Readable.from(
    (async function* () {
      for (const part of parts) yield* await blobs.open(part.sha256);
    })(),
  );
}

/**
 * `POST /{bucket}/objects/{key}?upload_id=` (optional `{"parts": [{part_number, etag}]}`):
 * assembles the parts into one blob while hashing it; the hash must equal the integrity
 * declared at initiation, else nothing is stored, the refusal is evidenced and the upload
 * stays open. On success the version, its `object.put` evidence and the closing of the
 * upload commit together.
 */
export async function completeUpload(
  context: PlaneContext,
  req: Request,
  res: Response,
  bucket: Bucket,
  key: string,
  blobs: BlobStore,
  limits: WriteLimits,
): Promise<void> {
  const body = await readJsonBody(req, completeBody);
  const governed = await govern(context, bucket, { permission: 'storage.write', eventType: 'object.put', requireActive: true });
  const refuse = refusalFor(context, governed, bucket, key);
  const upload = await openUpload(context, req, bucket, key);
  const parts = chooseParts(await listParts(context.db, upload.uploadId), body.parts);
  if (typeof parts === 'string') throw new EcsError(ErrorCode.ValidationFailed, parts, { field: 'parts' });
  const now = new Date();
  const facts = {
    upload_id: upload.uploadId,
    parts: parts.length,
    jurisdiction: upload.jurisdiction,
    classification: upload.classification,
    integrity: upload.integrity ?? PER_PART_INTEGRITY,
  };
  const expectedSha256 = upload.integrity?.slice('sha256:'.length);
  let stored;
  const assembled = concatenate(blobs, parts);
  try {
    stored = await blobs.put(assembled, { expectedSha256, maxBytes: limits.maxBytes });
  } catch (error) {
    assembled.destroy();
    if (error instanceof BlobIntegrityError) {
      throw await refuse(
        'evidence_precondition_failed',
        'integrity_mismatch',
        ErrorCode.IntegrityMismatch,
        `the assembled object hashes to sha256:${error.actual}, not the declared ${upload.integrity}`,
        { ...facts, computed_integrity: `sha256:${error.actual}`, size: error.size },
      );
    }
    if (error instanceof BlobTooLargeError)
      throw await refuse('policy_denied', 'object_too_large', ErrorCode.ObjectTooLarge, error.message, facts);
    throw await blobStoreRefusal(context, refuse, error, facts);
  }
  const retentionUntil = parseRetention(upload.retentionTtl, now) ?? now;
  let result;
  try {
    result = await commitVersion(
      context,
      governed,
      {
        ...versionTarget(bucket, key),
        sha256: stored.sha256,
        s3Etag: assembledS3Etag(parts),
        size: stored.size,
        contentType: upload.contentType,
        jurisdiction: upload.jurisdiction,
        retentionTtl: upload.retentionTtl,
        retentionUntil: effectiveRetention(retentionUntil, bucket, now),
        classification: upload.classification,
        integrity: upload.integrity ?? `sha256:${stored.sha256}`,
        evidencePointer: upload.evidencePointer,
        dataProductId: upload.dataProductId,
        usagePolicySnapshotId: upload.usagePolicySnapshotId,
        consentTokenRef: upload.consentTokenRef,
        legalHold: upload.legalHold,
        userMetadata: upload.userMetadata,
        origin: 'multipart',
        extraDetails: {
          upload_id: upload.uploadId,
          parts: parts.length,
          ...(upload.integrity === null ? { integrity_source: 'the SHA-256 declared by each part' } : {}),
        },
        within: (tx) => closeUpload(tx, upload.uploadId, 'completed'),
      },
      now,
    );
  } catch (error) {
    if (error instanceof UploadNotOpenError)
      throw new EcsError(ErrorCode.UploadNotOpen, `upload ${upload.uploadId} was closed meanwhile`, { field: 'upload_id' });
    throw error;
  }
  res.setHeader('etag', `"${result.version.sha256}"`);
  if (result.version.s3Etag) res.setHeader(S3_ETAG_HEADER, result.version.s3Etag);
  res.setHeader('x-eosc-version-id', result.version.versionId);
  res
    .status(201)
    .json({ ...writtenBody(bucket, key, result.version, result.event.evidence_pointer), upload_id: upload.uploadId, parts: parts.length });
}

/** `DELETE /{bucket}/objects/{key}?upload_id=`: drops the parts (`object.multipart.abort` evidence). */
export async function abortMultipart(context: PlaneContext, req: Request, res: Response, bucket: Bucket, key: string): Promise<void> {
  const governed = await govern(context, bucket, {
    permission: 'storage.write',
    eventType: 'object.multipart.abort',
    requireActive: false,
  });
  const upload = await openUpload(context, req, bucket, key);
  let event;
  try {
    event = await abortUpload(context.db, upload, governed.evidence);
  } catch (error) {
    if (error instanceof UploadNotOpenError)
      throw new EcsError(ErrorCode.UploadNotOpen, `upload ${upload.uploadId} was closed meanwhile`, { field: 'upload_id' });
    throw error;
  }
  res.setHeader('x-eosc-evidence-pointer', event.evidence_pointer);
  res.status(204).end();
}

/** `GET /{bucket}/objects/{key}?upload_id=`: the parts stored so far. */
export async function listUploadParts(context: PlaneContext, req: Request, res: Response, bucket: Bucket, key: string): Promise<void> {
  await govern(context, bucket, { permission: 'storage.read', eventType: 'object.get', requireActive: false });
  const upload = await openUpload(context, req, bucket, key);
  const parts = await listParts(context.db, upload.uploadId);
  res.json({
    upload_id: upload.uploadId,
    bucket: bucket.name,
    key,
    parts: parts.map((part) => ({ part_number: part.partNumber, etag: part.sha256, s3_etag: partS3Etag(part), size: Number(part.size) })),
  });
}
