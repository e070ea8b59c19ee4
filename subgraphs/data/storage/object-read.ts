import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, StoredBlob } from '../../../lib/blob-store';
import { userMetadataHeaders } from '../../../lib/domain/user-metadata';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { Bucket } from '../records/buckets';
import { findCurrentVersion, findVersion, governanceFields, listObjects, listVersions, recordAccess, s3EtagOf } from '../records/objects';
import type { StorageObjectVersion } from '../records/objects';
import { govern, storageRefusal } from './govern-operation';
import type { Governed } from './govern-operation';
import { GOVERNANCE_HEADERS, governanceHeaderValues } from './parse-governance';
import { queryText, versionIdOf } from './request-input';
import { S3_ETAG_HEADER } from './s3-etag';

/** The stored governance metadata as the same `x-eosc-*` headers it was written with. */
export function setObjectHeaders(res: Response, version: StorageObjectVersion): void {
  res.setHeader('etag', `"${version.sha256}"`);
  const s3Etag = s3EtagOf(version);
  if (s3Etag) res.setHeader(S3_ETAG_HEADER, s3Etag);
  res.setHeader('content-type', version.contentType ?? 'application/octet-stream');
  res.setHeader('content-length', String(version.size));
  res.setHeader('last-modified', version.createdAt.toUTCString());
  res.setHeader('x-eosc-version-id', version.versionId);
  const values: Array<[string, string | null]> = [
    ...governanceHeaderValues(version),
    ['x-eosc-retention-until', version.retentionUntil?.toISOString() ?? null],
    ['x-eosc-legal-hold', version.legalHold ? 'ON' : 'OFF'],
    ['x-eosc-origin', version.origin],
  ];
  for (const [name, value] of values) if (value !== null) res.setHeader(name, value);
  if (version.lockMode) res.setHeader('x-eosc-lock-mode', version.lockMode);
  for (const [name, value] of userMetadataHeaders(version.userMetadata)) res.setHeader(name, value);
}

/** The version a GET/HEAD asks for (`?version_id=` or the current one); 404 when none or deleted. */
async function requestedVersion(context: PlaneContext, req: Request, bucket: Bucket, key: string): Promise<StorageObjectVersion> {
  const versionId = versionIdOf(req);
  // One read either way. An unversioned bucket keeps one version a key (an overwrite removes the
  // one before), so there too an id names the version its PUT answered, or nothing.
  const version =
    versionId === undefined
      ? await findCurrentVersion(context.db, bucket.name, key)
      : await findVersion(context.db, bucket.name, key, versionId);
  if (!version || version.deleteMarker || !version.sha256) {
    const what = versionId === undefined ? `object ${key}` : `version ${versionId} of ${key}`;
    throw new EcsError(ErrorCode.NotFound, `${what} not found in bucket ${bucket.name}`, {
      field: versionId === undefined ? 'key' : 'version_id',
    });
  }
  return version;
}

/** Objects up to this size are read whole before they are served, larger ones streamed. */
const WHOLE_READ_MAX_BYTES = 64 * 1024;

function wantsReadVerify(req: Request): boolean {
  const flag =
    queryText(req, 'verify_integrity') ??
    (typeof req.headers['x-eosc-verify-integrity'] === 'string' ? req.headers['x-eosc-verify-integrity'] : undefined);
  if (flag === undefined) return false;
  if (flag === 'true' || flag === '') return true;
  if (flag === 'false') return false;
  throw new EcsError(ErrorCode.BadRequest, 'verify_integrity must be true or false', { field: 'verify_integrity' });
}

/**
 * HEAD: metadata only (no evidence). GET: refused for a suspended tenant; with read-verify
 * (`?verify_integrity=true` or `x-eosc-verify-integrity: true`) the stored bytes are hashed
 * first and a mismatch is refused with evidence; then `object.get` and `data.usage.receipt`
 * commit before the first byte is sent.
 */
export async function getObject(
  context: PlaneContext,
  req: Request,
  res: Response,
  bucket: Bucket,
  key: string,
  blobs: BlobStore,
): Promise<void> {
  await authorize(context, 'storage.read', bucket.tenantId);
  const version = await requestedVersion(context, req, bucket, key);
  if (req.method === 'HEAD') {
    setObjectHeaders(res, version);
    res.status(200).end();
    return;
  }
  const verify = wantsReadVerify(req);
  const governed = await govern(context, bucket, { permission: 'storage.read', eventType: 'object.get', requireActive: 'readable' });
  const size = Number(version.size);
  const matches = (actual: StoredBlob | null) => actual?.sha256 === version.sha256 && actual.size === size;
  // A small object is read once, whole, before its events (and hashed from memory under
  // read-verify); a stored length that differs from the record is refused with evidence
  // before anything is served, where a stream would send a body that contradicts its
  // content-length. A larger one is streamed, re-hashed first under read-verify.
  let whole: Buffer | undefined;
  let stream: Readable | undefined;
  try {
    if (size <= WHOLE_READ_MAX_BYTES) {
      whole = await blobs.readSmall(version.sha256!, size);
      if (whole?.length !== size || verify) {
        const actual = whole
          ? { sha256: createHash('sha256').update(whole).digest('hex'), size: whole.length }
          : await blobs.rehash(version.sha256!);
        if (!matches(actual)) throw await storedBytesRefusal(context, governed, version, actual, verify);
      }
    } else {
      if (verify) {
        const actual = await blobs.rehash(version.sha256!);
        if (!matches(actual)) throw await storedBytesRefusal(context, governed, version, actual, true);
      }
      stream = await blobs.open(version.sha256!);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw await storedBytesRefusal(context, governed, version, null, verify);
  }
  let events;
  try {
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string).slice(0, 256) : undefined);
    events = await recordAccess(context.db, version, governed.evidence, {
      consentTokenRef: header(GOVERNANCE_HEADERS.consentTokenRef),
      purposeId: header('x-eosc-purpose-id'),
      readVerified: verify,
    });
  } catch (error) {
    stream?.destroy();
    throw error;
  }
  setObjectHeaders(res, version);
  res.setHeader('x-eosc-access-evidence-pointer', events.get.evidence_pointer);
  res.setHeader('x-eosc-usage-receipt-pointer', events.receipt.evidence_pointer);
  if (verify) res.setHeader('x-eosc-integrity-verified', 'true');
  res.status(200);
  if (stream) await pipeline(stream, res);
  else res.end(whole);
}

/**
 * The refusal (with evidence) of a read whose stored bytes are not the recorded ones:
 * `actual` is what is stored (null: nothing), `readVerify` whether the reader asked for the
 * bytes to be hashed (otherwise their length gave them away).
 */
async function storedBytesRefusal(
  context: PlaneContext,
  governed: Governed,
  version: StorageObjectVersion,
  actual: StoredBlob | null,
  readVerify: boolean,
): Promise<EcsError> {
  context.log.error(
    { bucket: version.bucket, key: version.key, versionId: version.versionId, readVerify },
    'stored object does not match its record',
  );
  return storageRefusal(context, governed, {
    reasonClass: 'evidence_precondition_failed',
    reasonCode: actual ? 'stored_integrity_mismatch' : 'stored_object_missing',
    reason: !actual
      ? 'the stored bytes are missing; nothing is served'
      : readVerify
        ? `the stored bytes hash to sha256:${actual.sha256}, not the recorded ${version.integrity}; nothing is served`
        : `the stored bytes are ${actual.size} bytes, not the recorded ${version.size}; nothing is served`,
    code: ErrorCode.StoredIntegrityMismatch,
    details: {
      ...governanceFields(version),
      read_verify: readVerify,
      ...(actual ? { computed_integrity: `sha256:${actual.sha256}`, computed_size: actual.size } : {}),
    },
  });
}

function pageLimit(req: Request): number {
  const limitText = queryText(req, 'limit');
  return pageSize(limitText === undefined ? undefined : /^\d+$/.test(limitText) ? Number(limitText) : -1, 'limit');
}

export function versionBody(version: StorageObjectVersion): Record<string, unknown> {
  return {
    key: version.key,
    version_id: version.versionId,
    size: Number(version.size),
    etag: version.sha256,
    s3_etag: s3EtagOf(version),
    content_type: version.contentType,
    classification: version.classification,
    jurisdiction: version.jurisdiction,
    retention_until: version.retentionUntil?.toISOString() ?? null,
    legal_hold: version.legalHold,
    last_modified: version.createdAt.toISOString(),
  };
}

/** `GET /{bucket}/objects?prefix=&limit=&cursor=` (or `&start_after=` instead of a cursor): current objects in key order. */
export async function listBucket(context: PlaneContext, req: Request, res: Response, bucket: Bucket): Promise<void> {
  await authorize(context, 'storage.read', bucket.tenantId);
  const prefix = queryText(req, 'prefix') ?? '';
  const cursor = queryText(req, 'cursor');
  const startAfter = queryText(req, 'start_after');
  if (cursor !== undefined && startAfter !== undefined) {
    throw new EcsError(ErrorCode.BadRequest, 'start_after begins a listing, cursor continues one: send one of them', {
      field: 'start_after',
    });
  }
  const { items, nextCursor } = await listPage(context, bucket.name, prefix, cursor, pageLimit(req), startAfter);
  res.json({ bucket: bucket.name, prefix, items: items.map(versionBody), next_cursor: nextCursor });
}

/** `GET /{bucket}/objects/{key}?versions`: every version of a key, newest first, delete markers included. */
export async function listObjectVersions(context: PlaneContext, req: Request, res: Response, bucket: Bucket, key: string): Promise<void> {
  await authorize(context, 'storage.read', bucket.tenantId);
  const scope = { kind: 'data.versions', bucket: bucket.name, key, caller: context.caller.subject };
  const cursor = queryText(req, 'cursor');
  let before: string | undefined;
  if (cursor !== undefined) {
    const position = context.cursors.decode(cursor, scope);
    if (typeof position.v !== 'string')
      throw new EcsError(ErrorCode.InvalidCursor, 'cursor is not one this service issued', { field: 'cursor' });
    before = position.v;
  }
  const current = await findCurrentVersion(context.db, bucket.name, key);
  const { items, hasMore } = await listVersions(context.db, bucket.name, key, pageLimit(req), before);
  const last = items[items.length - 1];
  res.json({
    bucket: bucket.name,
    key,
    versions: items.map((version) => ({
      ...versionBody(version),
      delete_marker: version.deleteMarker,
      is_current: version.versionId === current?.versionId,
      origin: version.origin,
    })),
    next_cursor: hasMore && last ? context.cursors.encode({ v: last.versionId }, scope) : null,
  });
}

/**
 * One page of a bucket's objects; cursors are MACed and bound to bucket, prefix and caller.
 * Without a cursor, `startAfter` (a key, as S3's `start-after` and `marker`) begins the listing
 * after it.
 */
export async function listPage(
  context: PlaneContext,
  bucket: string,
  prefix: string,
  cursor: string | null | undefined,
  first: number,
  startAfter?: string,
): Promise<{ items: StorageObjectVersion[]; nextCursor: string | null }> {
  const scope = { kind: 'data.objects', bucket, prefix, caller: context.caller.subject };
  let afterKey: string | undefined = startAfter || undefined;
  if (cursor !== undefined && cursor !== null) {
    const position = context.cursors.decode(cursor, scope);
    if (typeof position.k !== 'string')
      throw new EcsError(ErrorCode.InvalidCursor, 'cursor is not one this service issued', { field: 'cursor' });
    afterKey = position.k;
  }
  const { items, hasMore } = await listObjects(context.db, { bucket, prefix, afterKey, first });
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? context.cursors.encode({ k: last.key }, scope) : null };
}
