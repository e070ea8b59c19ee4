import type { Request, Response, Router } from 'express';
import { pipeline } from 'node:stream/promises';
import { actorOf } from '../../../lib/auth/caller';
import type { Action } from '../../../lib/auth/permissions';
import { BlobIntegrityError, BlobTooLargeError, FsBlobStore } from '../../../lib/blob-store';
import type { BlobStore } from '../../../lib/blob-store';
import { classificationAtMost } from '../../../lib/domain/classification';
import type { Classification } from '../../../lib/domain/classification';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { ErrorCode as ErrorCodeType } from '../../../lib/errors';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import type { RefusalReasonClass } from '../../../lib/evidence/evidence-event';
import { pageSize } from '../../../lib/graphql/page-size';
import { sendError } from '../../../lib/http/error-body';
import { authorize, refuse } from '../../../lib/subgraph/authorize';
import { assertAuthority } from '../../../lib/subgraph/governed-action';
import type { TenantFacts } from '../../../lib/subgraph/plane-client';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { PlaneRouteHelpers } from '../../../lib/subgraph/subgraph-app';
import { assertTenantActive, tenantFacts } from '../../../lib/subgraph/tenant-guard';
import { getBucketsByNames } from '../data/buckets';
import type { Bucket } from '../data/buckets';
import {
  ObjectLockedError,
  deleteCurrent,
  findCurrentVersion,
  findVersion,
  listObjects,
  lockOf,
  putVersion,
  recordAccess,
} from '../data/objects';
import type { StorageEvidence, StorageObjectVersion } from '../data/objects';
import { GOVERNANCE_HEADERS, isViolation, objectKeyProblem, parseGovernance, placementAllowed } from './governance';

/** Path prefix of the raw object routes on the data plane (under `/data`). */
export const STORAGE_ROUTE_PREFIX = '/storage';

const OBJECT_PATH = /^\/([^/]+)\/objects(?:\/(.*))?$/;

interface ObjectTarget {
  bucket: Bucket;
  key: string;
}

/**
 * The data plane's object byte endpoints, behind the forwarded-identity check:
 * `PUT/GET/HEAD/DELETE /data/storage/{bucket}/objects/{key}` and
 * `GET /data/storage/{bucket}/objects` (list). The gateway streams to them.
 */
export function storageRoutes(router: Router, helpers: PlaneRouteHelpers): void {
  const config = helpers.deps.config;
  const blobs: BlobStore = new FsBlobStore(config?.blobDir ?? 'blobs');
  const maxBytes = config?.maxObjectBytes ?? 5 * 1024 ** 3;

  router.use(STORAGE_ROUTE_PREFIX, (req, res, next) => {
    const match = OBJECT_PATH.exec(req.path);
    if (!match) return next();
    const context = helpers.contextOf(res);
    const handle = async (): Promise<void> => {
      const bucketName = decode(match[1]!);
      const rawKey = match[2];
      if (rawKey === undefined || rawKey === '') {
        if (req.method !== 'GET') throw new EcsError(ErrorCode.BadRequest, `${req.method} is not supported on a bucket's object list`);
        return list(context, req, res, await loadBucket(context, bucketName));
      }
      const key = decode(rawKey);
      const problem = objectKeyProblem(key);
      if (problem) throw new EcsError(ErrorCode.InvalidObjectKey, problem, { field: 'key' });
      const target = { bucket: await loadBucket(context, bucketName), key };
      switch (req.method) {
        case 'PUT':
          return put(context, req, res, target, blobs, maxBytes);
        case 'GET':
        case 'HEAD':
          return get(context, req, res, target, blobs);
        case 'DELETE':
          return remove(context, res, target);
        default:
          throw new EcsError(ErrorCode.BadRequest, `${req.method} is not supported on an object`);
      }
    };
    handle().catch((error: unknown) => {
      if (!(error instanceof EcsError)) context.log.error({ err: error }, 'storage request failed');
      // A refusal can come before the body was read: drop the rest of the upload.
      if (!req.readableEnded) req.resume();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, error instanceof EcsError ? error : new EcsError(ErrorCode.Internal, 'internal error'));
    });
  });
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new EcsError(ErrorCode.InvalidObjectKey, 'the path is not valid percent-encoding', { field: 'key' });
  }
}

async function loadBucket(context: PlaneContext, name: string): Promise<Bucket> {
  const [bucket] = await getBucketsByNames({ db: context.db, names: [name] });
  if (!bucket) throw new EcsError(ErrorCode.NotFound, `bucket ${name} not found`, { field: 'bucket' });
  return bucket;
}

interface Governed {
  tenant: TenantFacts;
  evidence: StorageEvidence;
}

/** Role/tenant scope, authority binding in force, tenant active, policy snapshot: the common preamble. */
async function govern(context: PlaneContext, bucket: Bucket, action: Action, eventType: string, requireActive: boolean): Promise<Governed> {
  await authorize(context, action, bucket.tenantId);
  const governed = { action, eventType };
  const tenant = await tenantFacts(context, bucket.tenantId, governed);
  const authoritySnapshotId = await assertAuthority(context, { bindingId: tenant.authorityBinding, tenantId: tenant.id, ...governed });
  let policySnapshotId: string | undefined;
  try {
    policySnapshotId = (await context.planes.currentPolicy(tenant.policyBaseline))?.id;
  } catch {
    throw await refuse(context, {
      tenantId: tenant.id,
      ...governed,
      authoritySnapshotId,
      reasonClass: 'dependency_unavailable_fail_closed',
      reasonCode: 'policy_unavailable',
      reason: 'the policy in force could not be read; the action is refused',
      code: ErrorCode.DependencyUnavailable,
    });
  }
  if (requireActive) await assertTenantActive(context, tenant, governed, { authoritySnapshotId, policySnapshotId });
  return {
    tenant,
    evidence: { actor: actorOf(context.caller), correlationId: context.correlationId, authoritySnapshotId, policySnapshotId },
  };
}

function storageRefusal(
  context: PlaneContext,
  governed: Governed,
  refusal: { action: string; eventType: string; reasonClass: RefusalReasonClass; reasonCode: string; reason: string; code: ErrorCodeType; details: JsonObject },
): Promise<EcsError> {
  return refuse(context, {
    tenantId: governed.tenant.id,
    authoritySnapshotId: governed.evidence.authoritySnapshotId,
    policySnapshotId: governed.evidence.policySnapshotId,
    ...refusal,
  });
}

async function put(context: PlaneContext, req: Request, res: Response, target: ObjectTarget, blobs: BlobStore, maxBytes: number): Promise<void> {
  const { bucket, key } = target;
  const action = 'storage.write';
  const eventType = 'object.put';
  const governed = await govern(context, bucket, action, eventType, true);
  const subject = { bucket: bucket.name, object_key: key };
  const refuseWith = async (reasonClass: RefusalReasonClass, reasonCode: string, code: ErrorCodeType, reason: string, details: JsonObject = {}) =>
    storageRefusal(context, governed, { action: 'object.put', eventType, reasonClass, reasonCode, reason, code, details: { ...subject, ...details } });

  const now = new Date();
  const governance = parseGovernance(req.headers, now);
  if (isViolation(governance)) {
    throw await refuseWith('evidence_precondition_failed', governance.reasonCode, governance.code, governance.message, { header: governance.header });
  }
  const facts = { jurisdiction: governance.jurisdiction, classification: governance.classification, integrity: governance.integrity };
  if (!classificationAtMost(governance.classification, governed.tenant.classificationCeiling as Classification)) {
    throw await refuseWith('policy_denied', 'classification_above_ceiling', ErrorCode.ClassificationAboveCeiling,
      `classification ${governance.classification} exceeds the tenant's ceiling ${governed.tenant.classificationCeiling}`,
      { ...facts, classification_ceiling: governed.tenant.classificationCeiling });
  }
  if (!placementAllowed(governance.jurisdictions, bucket.jurisdiction, governed.tenant.jurisdiction)) {
    throw await refuseWith('jurisdiction_denied', 'placement_outside_jurisdiction', ErrorCode.JurisdictionBlocked,
      `bucket ${bucket.name} (${bucket.jurisdiction}) lies outside the declared jurisdiction ${governance.jurisdiction} or the tenant's ${governed.tenant.jurisdiction}`,
      { ...facts, bucket_jurisdiction: bucket.jurisdiction, tenant_jurisdiction: governed.tenant.jurisdiction });
  }
  const declaredLength = Number(req.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > maxBytes) {
    throw await refuseWith('policy_denied', 'object_too_large', ErrorCode.ObjectTooLarge, `object exceeds the limit of ${maxBytes} bytes`, { size: declaredLength });
  }
  if (!bucket.versioning) {
    const lock = lockOf(await findCurrentVersion(context.db, bucket.name, key), now);
    if (lock) throw await refuseWith('policy_denied', lock, ErrorCode.ObjectLocked, `overwrite refused: ${lock.replace(/_/g, ' ')}`);
  }

  let stored;
  try {
    stored = await blobs.put(req, { expectedSha256: governance.expectedSha256, maxBytes });
  } catch (error) {
    if (error instanceof BlobIntegrityError) {
      throw await refuseWith('evidence_precondition_failed', 'integrity_mismatch', ErrorCode.IntegrityMismatch,
        `the content hashes to sha256:${error.actual}, not the declared ${governance.integrity}`,
        { ...facts, computed_integrity: `sha256:${error.actual}`, size: error.size });
    }
    if (error instanceof BlobTooLargeError) {
      throw await refuseWith('policy_denied', 'object_too_large', ErrorCode.ObjectTooLarge, error.message);
    }
    throw error;
  }

  let result;
  try {
    result = await putVersion(
      context.db,
      {
        bucket: bucket.name,
        key,
        tenantId: bucket.tenantId,
        versioned: bucket.versioning,
        sha256: stored.sha256,
        size: stored.size,
        contentType: contentTypeOf(req.headers['content-type']),
        jurisdiction: governance.jurisdiction,
        retentionTtl: governance.retentionTtl,
        retentionUntil: governance.retentionUntil,
        classification: governance.classification,
        integrity: governance.integrity,
        evidencePointer: governance.evidencePointer,
        dataProductId: governance.dataProductId,
        usagePolicySnapshotId: governance.usagePolicySnapshotId,
        consentTokenRef: governance.consentTokenRef,
        legalHold: governance.legalHold,
      },
      governed.evidence,
      now,
    );
  } catch (error) {
    if (error instanceof ObjectLockedError) {
      throw await refuseWith('policy_denied', error.reasonCode, ErrorCode.ObjectLocked, `overwrite refused: ${error.reasonCode.replace(/_/g, ' ')}`);
    }
    throw error;
  }
  const { version, event } = result;
  res.setHeader('etag', `"${version.sha256}"`);
  res.setHeader('x-eosc-version-id', version.versionId);
  res.status(201).json({
    bucket: bucket.name,
    key,
    version_id: version.versionId,
    etag: version.sha256,
    size: Number(version.size),
    integrity: version.integrity,
    evidence_pointer: event.evidence_pointer,
  });
}

function contentTypeOf(header: string | undefined): string {
  return header && header.length <= 255 && /^[\x20-\x7e]+$/.test(header) ? header : 'application/octet-stream';
}

/** The stored governance metadata as the same `x-eosc-*` headers it was written with. */
function setObjectHeaders(res: Response, version: StorageObjectVersion): void {
  const H = GOVERNANCE_HEADERS;
  res.setHeader('etag', `"${version.sha256}"`);
  res.setHeader('content-type', version.contentType ?? 'application/octet-stream');
  res.setHeader('content-length', String(version.size));
  res.setHeader('last-modified', version.createdAt.toUTCString());
  res.setHeader('x-eosc-version-id', version.versionId);
  const values: Array<[string, string | null]> = [
    [H.jurisdiction, version.jurisdiction],
    [H.retention, version.retentionTtl],
    [H.integrity, version.integrity],
    [H.classification, version.classification],
    [H.evidencePointer, version.evidencePointer],
    [H.dataProductId, version.dataProductId],
    [H.usagePolicySnapshotId, version.usagePolicySnapshotId],
    [H.consentTokenRef, version.consentTokenRef],
    ['x-eosc-retention-until', version.retentionUntil?.toISOString() ?? null],
    ['x-eosc-legal-hold', version.legalHold ? 'ON' : 'OFF'],
  ];
  for (const [name, value] of values) if (value !== null) res.setHeader(name, value);
  if (version.lockMode) res.setHeader('x-eosc-lock-mode', version.lockMode);
}

async function get(context: PlaneContext, req: Request, res: Response, target: ObjectTarget, blobs: BlobStore): Promise<void> {
  const { bucket, key } = target;
  await authorize(context, 'storage.read', bucket.tenantId);
  const versionId = typeof req.query.version_id === 'string' ? req.query.version_id : undefined;
  if (req.query.version_id !== undefined && (versionId === undefined || versionId.length === 0 || versionId.length > 64)) {
    throw new EcsError(ErrorCode.BadRequest, 'version_id must be one version id', { field: 'version_id' });
  }
  if (versionId !== undefined && !bucket.versioning) {
    throw new EcsError(ErrorCode.BadRequest, `bucket ${bucket.name} is not versioned`, { field: 'version_id' });
  }
  const version = versionId ? await findVersion(context.db, bucket.name, key, versionId) : await findCurrentVersion(context.db, bucket.name, key);
  if (!version || version.deleteMarker || !version.sha256) {
    throw new EcsError(ErrorCode.NotFound, `object ${key} not found in bucket ${bucket.name}`, { field: 'key' });
  }
  if (req.method === 'HEAD') {
    setObjectHeaders(res, version);
    res.status(200).end();
    return;
  }
  const governed = await govern(context, bucket, 'storage.read', 'object.get', false);
  const stream = await blobs.open(version.sha256);
  let events;
  try {
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string).slice(0, 256) : undefined);
    events = await recordAccess(context.db, version, governed.evidence, {
      consentTokenRef: header(GOVERNANCE_HEADERS.consentTokenRef),
      purposeId: header('x-eosc-purpose-id'),
    });
  } catch (error) {
    stream.destroy();
    throw error;
  }
  setObjectHeaders(res, version);
  res.setHeader('x-eosc-access-evidence-pointer', events.get.evidence_pointer);
  res.setHeader('x-eosc-usage-receipt-pointer', events.receipt.evidence_pointer);
  res.status(200);
  await pipeline(stream, res);
}

async function remove(context: PlaneContext, res: Response, target: ObjectTarget): Promise<void> {
  const { bucket, key } = target;
  const eventType = 'object.delete';
  const governed = await govern(context, bucket, 'storage.delete', eventType, true);
  let result;
  try {
    result = await deleteCurrent(context.db, { bucket: bucket.name, key, tenantId: bucket.tenantId }, governed.evidence);
  } catch (error) {
    if (error instanceof ObjectLockedError) {
      throw await storageRefusal(context, governed, {
        action: 'object.delete',
        eventType,
        reasonClass: 'policy_denied',
        reasonCode: error.reasonCode,
        reason: `delete refused: ${error.reasonCode.replace(/_/g, ' ')}`,
        code: ErrorCode.ObjectLocked,
        details: {
          bucket: bucket.name,
          object_key: key,
          version_id: error.version.versionId,
          retention_until: error.version.retentionUntil?.toISOString() ?? null,
          legal_hold: error.version.legalHold,
        },
      });
    }
    throw error;
  }
  if (!result) throw new EcsError(ErrorCode.NotFound, `object ${key} not found in bucket ${bucket.name}`, { field: 'key' });
  res.setHeader('x-eosc-version-id', result.marker.versionId);
  res.setHeader('x-eosc-evidence-pointer', result.event.evidence_pointer);
  res.status(204).end();
}

async function list(context: PlaneContext, req: Request, res: Response, bucket: Bucket): Promise<void> {
  await authorize(context, 'storage.read', bucket.tenantId);
  const query = req.query;
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new EcsError(ErrorCode.BadRequest, `${name} must be given once`, { field: name });
    return value;
  };
  const prefix = text('prefix') ?? '';
  const limitText = text('limit');
  const limit = pageSize(limitText === undefined ? undefined : /^\d+$/.test(limitText) ? Number(limitText) : -1, 'limit');
  const page = listPage(context, bucket.name, prefix, text('cursor'), limit);
  const { items, nextCursor } = await page;
  res.json({
    bucket: bucket.name,
    prefix,
    items: items.map((version) => ({
      key: version.key,
      version_id: version.versionId,
      size: Number(version.size),
      etag: version.sha256,
      content_type: version.contentType,
      classification: version.classification,
      jurisdiction: version.jurisdiction,
      retention_until: version.retentionUntil?.toISOString() ?? null,
      legal_hold: version.legalHold,
      last_modified: version.createdAt.toISOString(),
    })),
    next_cursor: nextCursor,
  });
}

/** One page of a bucket's objects; cursors are MACed and bound to bucket, prefix and caller. */
export async function listPage(
  context: PlaneContext,
  bucket: string,
  prefix: string,
  cursor: string | null | undefined,
  first: number,
): Promise<{ items: StorageObjectVersion[]; nextCursor: string | null }> {
  const scope = { kind: 'data.objects', bucket, prefix, caller: context.caller.subject };
  let afterKey: string | undefined;
  if (cursor !== undefined && cursor !== null) {
    const position = context.cursors.decode(cursor, scope);
    if (typeof position.k !== 'string') throw new EcsError(ErrorCode.InvalidCursor, 'cursor is not one this service issued', { field: 'cursor' });
    afterKey = position.k;
  }
  const { items, hasMore } = await listObjects(context.db, { bucket, prefix, afterKey, first });
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? context.cursors.encode({ k: last.key }, scope) : null };
}
