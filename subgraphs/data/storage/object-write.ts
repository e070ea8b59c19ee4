import type { Request, Response } from 'express';
import { BlobIntegrityError, BlobMd5MismatchError, BlobStoreUnavailableError, BlobTooLargeError } from '../../../lib/blob-store';
import type { BlobStore } from '../../../lib/blob-store';
import { classificationAtMost } from '../../../lib/domain/classification';
import { gatewayVouchedIntegrity } from '../../../lib/domain/governance-headers';
import { UserMetadataError, storedUserMetadata, userMetadataOf } from '../../../lib/domain/user-metadata';
import type { Classification } from '../../../lib/domain/classification';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { ErrorCode as ErrorCodeType } from '../../../lib/errors';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import type { RefusalReasonClass } from '../../../lib/evidence/evidence-event';
import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { Bucket } from '../records/buckets';
import { ObjectLockedError, findCurrentVersion, findVersion, lockOf, putVersion, s3EtagOf } from '../records/objects';
import type { NewVersion, StorageObjectVersion } from '../records/objects';
import { govern, loadBucket, storageRefusal } from './govern-operation';
import type { Governed } from './govern-operation';
import {
  governanceHeaderValues,
  isViolation,
  objectKeyProblem,
  parseGovernance,
  parseRetention,
  placementAllowed,
} from './parse-governance';
import type { Governance, IntegrityOptions } from './parse-governance';
import { carriesBody } from './request-input';
import { S3_ETAG_HEADER, contentMd5Mismatch, declaredMd5 } from './s3-etag';

export interface WriteLimits {
  maxBytes: number;
}

export type Refuse = (
  reasonClass: RefusalReasonClass,
  reasonCode: string,
  code: ErrorCodeType,
  reason: string,
  details?: JsonObject,
) => Promise<EcsError>;

/** A refusal helper for one object write: every refusal names bucket and key. */
export function refusalFor(context: PlaneContext, governed: Governed, bucket: Bucket, key: string): Refuse {
  return (reasonClass, reasonCode, code, reason, details = {}) =>
    storageRefusal(context, governed, {
      reasonClass,
      reasonCode,
      code,
      reason,
      details: { bucket: bucket.name, object_key: key, ...details },
    });
}

/**
 * A failing blob store (disk full, unwritable) refuses the write with evidence, fail closed;
 * anything else (the client going away mid-upload) is rethrown as it is.
 */
export async function blobStoreRefusal(context: PlaneContext, refuse: Refuse, error: unknown, details: JsonObject): Promise<unknown> {
  if (!(error instanceof BlobStoreUnavailableError)) return error;
  context.log.error({ err: error.cause }, 'blob store failed');
  return refuse(
    'dependency_unavailable_fail_closed',
    'blob_store_unavailable',
    ErrorCode.DependencyUnavailable,
    `the object could not be stored${error.code ? ` (${error.code})` : ''}; nothing was written`,
    details,
  );
}

/** When retention ends: the declared end, or later when the bucket has a longer default retention. */
export function effectiveRetention(declared: Date, bucket: Bucket, now: Date): Date {
  if (!bucket.defaultRetention) return declared;
  const minimum = parseRetention(bucket.defaultRetention, now);
  return minimum && minimum.getTime() > declared.getTime() ? minimum : declared;
}

/**
 * The checks every new object passes before bytes are accepted: governance headers,
 * classification ceiling, jurisdiction of the bucket. Refusals carry evidence.
 */
export async function admitGovernance(
  context: PlaneContext,
  req: Request,
  governed: Governed,
  bucket: Bucket,
  key: string,
  now: Date,
  options: IntegrityOptions = {},
): Promise<Governance> {
  const refuse = refusalFor(context, governed, bucket, key);
  const governance = parseGovernance(req.headers, now, options);
  if (isViolation(governance)) {
    throw await refuse('evidence_precondition_failed', governance.reasonCode, governance.code, governance.message, {
      header: governance.header,
    });
  }
  const facts = { jurisdiction: governance.jurisdiction, classification: governance.classification, integrity: governance.integrity };
  if (!classificationAtMost(governance.classification, governed.tenant.classificationCeiling as Classification)) {
    throw await refuse(
      'policy_denied',
      'classification_above_ceiling',
      ErrorCode.ClassificationAboveCeiling,
      `classification ${governance.classification} exceeds the tenant's ceiling ${governed.tenant.classificationCeiling}`,
      { ...facts, classification_ceiling: governed.tenant.classificationCeiling },
    );
  }
  if (!placementAllowed(governance.jurisdictions, bucket.jurisdiction, governed.tenant.jurisdiction)) {
    throw await refuse(
      'jurisdiction_denied',
      'placement_outside_jurisdiction',
      ErrorCode.JurisdictionBlocked,
      `bucket ${bucket.name} (${bucket.jurisdiction}) lies outside the declared jurisdiction ${governance.jurisdiction} or the tenant's ${governed.tenant.jurisdiction}`,
      { ...facts, bucket_jurisdiction: bucket.jurisdiction, tenant_jurisdiction: governed.tenant.jurisdiction },
    );
  }
  return governance;
}

/** Refuses early (before the bytes are read) an overwrite of a locked object in an unversioned bucket. */
export async function refuseLockedOverwrite(
  context: PlaneContext,
  governed: Governed,
  bucket: Bucket,
  key: string,
  now: Date,
): Promise<void> {
  if (bucket.versioning) return;
  const lock = lockOf(await findCurrentVersion(context.db, bucket.name, key), now);
  if (lock)
    throw await refusalFor(context, governed, bucket, key)(
      'policy_denied',
      lock,
      ErrorCode.ObjectLocked,
      `overwrite refused: ${lock.replace(/_/g, ' ')}`,
    );
}

/** Commits a new version; a lock found inside the transaction becomes a refusal with evidence. */
export async function commitVersion(context: PlaneContext, governed: Governed, data: NewVersion, now: Date) {
  try {
    return await putVersion(context.db, data, governed.evidence, now);
  } catch (error) {
    if (error instanceof ObjectLockedError) {
      throw await storageRefusal(context, governed, {
        reasonClass: 'policy_denied',
        reasonCode: error.reasonCode,
        code: ErrorCode.ObjectLocked,
        reason: `overwrite refused: ${error.reasonCode.replace(/_/g, ' ')}`,
        details: { bucket: data.bucket, object_key: data.key, version_id: error.version.versionId },
      });
    }
    throw error;
  }
}

export function contentTypeOf(header: string | undefined): string {
  return header && header.length <= 255 && /^[\x20-\x7e]+$/.test(header) ? header : 'application/octet-stream';
}

export function writtenBody(bucket: Bucket, key: string, version: StorageObjectVersion, evidencePointer: string): Record<string, unknown> {
  return {
    bucket: bucket.name,
    key,
    version_id: version.versionId,
    etag: version.sha256,
    s3_etag: s3EtagOf(version),
    size: Number(version.size),
    integrity: version.integrity,
    retention_until: version.retentionUntil?.toISOString() ?? null,
    origin: version.origin,
    evidence_pointer: evidencePointer,
  };
}

function sendWritten(res: Response, bucket: Bucket, key: string, version: StorageObjectVersion, evidencePointer: string): void {
  res.setHeader('etag', `"${version.sha256}"`);
  const s3Etag = s3EtagOf(version);
  if (s3Etag) res.setHeader(S3_ETAG_HEADER, s3Etag);
  res.setHeader('x-eosc-version-id', version.versionId);
  res.status(201).json(writtenBody(bucket, key, version, evidencePointer));
}

/** The write's S3 user metadata (`x-amz-meta-*`) in stored form; 400 for a malformed or oversized one. */
export function userMetadataFrom(req: Request): string | null {
  try {
    return storedUserMetadata(userMetadataOf(req.headers));
  } catch (error) {
    if (error instanceof UserMetadataError) throw new EcsError(ErrorCode.BadRequest, error.message, { field: error.header });
    throw error;
  }
}

/** `PUT /{bucket}/objects/{key}`: streams the body into the blob store while hashing it. */
export async function putObject(
  context: PlaneContext,
  req: Request,
  res: Response,
  bucket: Bucket,
  key: string,
  blobs: BlobStore,
  limits: WriteLimits,
): Promise<void> {
  const governed = await govern(context, bucket, { permission: 'storage.write', eventType: 'object.put', requireActive: true });
  const refuse = refusalFor(context, governed, bucket, key);
  const now = new Date();
  const userMetadata = userMetadataFrom(req);
  // Only the S3 endpoint sends these headers (the /v1 route never forwards them): see GATEWAY_ONLY_INTEGRITY_HEADERS.
  const vouchedBy = gatewayVouchedIntegrity(req.headers);
  const governance = await admitGovernance(context, req, governed, bucket, key, now, { integrityFromBody: vouchedBy !== undefined });
  const facts = { jurisdiction: governance.jurisdiction, classification: governance.classification, integrity: governance.integrity };
  const expectedMd5 = declaredMd5(req);
  const declaredLength = Number(req.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > limits.maxBytes) {
    throw await refuse(
      'policy_denied',
      'object_too_large',
      ErrorCode.ObjectTooLarge,
      `object exceeds the limit of ${limits.maxBytes} bytes`,
      { size: declaredLength },
    );
  }
  await refuseLockedOverwrite(context, governed, bucket, key, now);

  let stored;
  try {
    stored = await blobs.put(req, { expectedSha256: governance.expectedSha256, expectedMd5, maxBytes: limits.maxBytes });
  } catch (error) {
    if (error instanceof BlobMd5MismatchError) {
      throw await refuse(
        'evidence_precondition_failed',
        'content_md5_mismatch',
        ErrorCode.BadRequest,
        contentMd5Mismatch(error.expected, error.actual),
        { ...facts, declared_md5: error.expected, computed_md5: error.actual, size: error.size },
      );
    }
    if (error instanceof BlobIntegrityError) {
      throw await refuse(
        'evidence_precondition_failed',
        'integrity_mismatch',
        ErrorCode.IntegrityMismatch,
        `the content hashes to sha256:${error.actual}, not the declared ${governance.integrity}`,
        { ...facts, computed_integrity: `sha256:${error.actual}`, size: error.size },
      );
    }
    if (error instanceof BlobTooLargeError)
      throw await refuse('policy_denied', 'object_too_large', ErrorCode.ObjectTooLarge, error.message);
    throw await blobStoreRefusal(context, refuse, error, facts);
  }
  const { version, event } = await commitVersion(
    context,
    governed,
    {
      ...versionFields(governance),
      ...(governance.integrityFromBody && vouchedBy
        ? { integrity: `sha256:${stored.sha256}`, extraDetails: { integrity_source: vouchedBy } }
        : {}),
      ...versionTarget(bucket, key),
      sha256: stored.sha256,
      s3Etag: stored.md5,
      size: stored.size,
      contentType: contentTypeOf(req.headers['content-type']),
      retentionUntil: effectiveRetention(governance.retentionUntil, bucket, now),
      userMetadata,
      origin: 'put',
    },
    now,
  );
  sendWritten(res, bucket, key, version, event.evidence_pointer);
}

/** Where a new version of `key` goes, with the bucket's versioning and lock mode. */
export function versionTarget(bucket: Bucket, key: string) {
  return { bucket: bucket.name, key, tenantId: bucket.tenantId, versioned: bucket.versioning, bucketLockMode: bucket.lockMode };
}

/** The governance values of a new version, from validated headers. */
export function versionFields(governance: Governance) {
  return {
    jurisdiction: governance.jurisdiction,
    retentionTtl: governance.retentionTtl,
    classification: governance.classification,
    integrity: governance.integrity,
    evidencePointer: governance.evidencePointer,
    dataProductId: governance.dataProductId,
    usagePolicySnapshotId: governance.usagePolicySnapshotId,
    consentTokenRef: governance.consentTokenRef,
    legalHold: governance.legalHold,
  };
}

export const COPY_SOURCE_HEADER = 'x-eosc-copy-source';
export const COPY_SOURCE_VERSION_HEADER = 'x-eosc-copy-source-version-id';

function parseCopySource(value: string): { bucket: string; key: string } {
  const text = value.startsWith('/') ? value.slice(1) : value;
  const slash = text.indexOf('/');
  let bucket = '';
  let key = '';
  try {
    bucket = decodeURIComponent(text.slice(0, slash));
    key = decodeURIComponent(text.slice(slash + 1));
  } catch {
    // reported below
  }
  const problem = slash <= 0 || !bucket ? 'names no bucket' : objectKeyProblem(key);
  if (problem)
    throw new EcsError(ErrorCode.BadRequest, `${COPY_SOURCE_HEADER} must be <bucket>/<key>: ${problem}`, { field: COPY_SOURCE_HEADER });
  return { bucket, key };
}

/**
 * Copy within the provider (`PUT` with `x-eosc-copy-source: <bucket>/<key>`): the new
 * version keeps every governance value of the source unchanged and refers to the same
 * blob. Refused with evidence when the target bucket lies outside the object's declared
 * jurisdiction (ws2 jurisdiction enforcement), when the request tries to change governance
 * metadata, when the source belongs to another tenant, or when the request also carries a
 * body (which a copy would otherwise drop without a word: the caller meant one or the other).
 */
export async function copyObject(
  context: PlaneContext,
  req: Request,
  res: Response,
  bucket: Bucket,
  key: string,
  blobs: BlobStore,
): Promise<void> {
  const source = parseCopySource(String(req.headers[COPY_SOURCE_HEADER]));
  const governed = await govern(context, bucket, { permission: 'storage.write', eventType: 'object.copy', requireActive: true });
  const refuse = refusalFor(context, governed, bucket, key);
  if (await carriesBody(req)) {
    throw await refuse(
      'evidence_precondition_failed',
      'copy_with_body',
      ErrorCode.BadRequest,
      `a copy (${COPY_SOURCE_HEADER}) takes no request body: send the bytes with a plain PUT, or the copy without them`,
      { source_bucket: source.bucket, source_key: source.key },
    );
  }
  const sourceBucket = await loadBucket(context, source.bucket);
  await authorize(context, 'storage.read', sourceBucket.tenantId);
  const sourceFields = { source_bucket: sourceBucket.name, source_key: source.key };
  if (sourceBucket.tenantId !== bucket.tenantId) {
    throw await refuse(
      'policy_denied',
      'cross_tenant_copy',
      ErrorCode.Forbidden,
      'objects are copied only between buckets of one tenant',
      sourceFields,
    );
  }
  const versionHeader = req.headers[COPY_SOURCE_VERSION_HEADER];
  const sourceVersionId =
    typeof versionHeader === 'string' && versionHeader.length > 0 && versionHeader.length <= 64 ? versionHeader : undefined;
  const original = sourceVersionId
    ? await findVersion(context.db, sourceBucket.name, source.key, sourceVersionId)
    : await findCurrentVersion(context.db, sourceBucket.name, source.key);
  if (!original || original.deleteMarker || !original.sha256) {
    throw new EcsError(ErrorCode.NotFound, `object ${source.key} not found in bucket ${sourceBucket.name}`, { field: COPY_SOURCE_HEADER });
  }
  const copied = {
    ...sourceFields,
    source_version_id: original.versionId,
    jurisdiction: original.jurisdiction,
    classification: original.classification,
    integrity: original.integrity,
  };
  const changed = changedGovernance(req, original);
  if (changed) {
    throw await refuse(
      'evidence_precondition_failed',
      'governance_metadata_change',
      ErrorCode.GovernanceMetadataImmutable,
      `a copy keeps the source's governance metadata; ${changed} differs`,
      { ...copied, header: changed },
    );
  }
  const declared = (original.jurisdiction ?? '').split(',');
  if (!placementAllowed(declared, bucket.jurisdiction, governed.tenant.jurisdiction)) {
    throw await refuse(
      'jurisdiction_denied',
      'copy_outside_jurisdiction',
      ErrorCode.JurisdictionBlocked,
      `bucket ${bucket.name} (${bucket.jurisdiction}) lies outside the object's declared jurisdiction ${original.jurisdiction}`,
      { ...copied, bucket_jurisdiction: bucket.jurisdiction, tenant_jurisdiction: governed.tenant.jurisdiction },
    );
  }
  const now = new Date();
  await refuseLockedOverwrite(context, governed, bucket, key, now);
  if (!(await blobs.retain(original.sha256))) {
    context.log.error({ bucket: sourceBucket.name, key: source.key, versionId: original.versionId }, 'copy source blob is missing');
    throw new EcsError(ErrorCode.Internal, 'the source object bytes are missing');
  }
  const { version, event } = await commitVersion(
    context,
    governed,
    {
      ...versionTarget(bucket, key),
      sha256: original.sha256,
      s3Etag: original.s3Etag,
      size: Number(original.size),
      contentType: original.contentType ?? 'application/octet-stream',
      jurisdiction: original.jurisdiction!,
      retentionTtl: original.retentionTtl!,
      retentionUntil: effectiveRetention(original.retentionUntil ?? now, bucket, now),
      classification: original.classification!,
      integrity: original.integrity!,
      evidencePointer: original.evidencePointer!,
      dataProductId: original.dataProductId!,
      usagePolicySnapshotId: original.usagePolicySnapshotId!,
      consentTokenRef: original.consentTokenRef!,
      legalHold: false,
      userMetadata: original.userMetadata,
      origin: 'copy',
      eventType: 'object.copy',
      extraDetails: { ...sourceFields, source_version_id: original.versionId, jurisdiction_decision: 'within_declared' },
    },
    now,
  );
  sendWritten(res, bucket, key, version, event.evidence_pointer);
}

/** The first governance header the request sets to a value other than the source's. */
function changedGovernance(req: Request, original: StorageObjectVersion): string | undefined {
  for (const [header, value] of governanceHeaderValues(original)) {
    const given = req.headers[header];
    if (given !== undefined && (Array.isArray(given) || given.trim() !== value)) return header;
  }
  return undefined;
}
