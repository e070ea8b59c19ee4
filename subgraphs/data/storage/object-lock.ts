import type { Request, Response } from 'express';
import { z } from 'zod';
import { mayPerform } from '../../../lib/auth/caller';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { Bucket } from '../records/buckets';
import { RetentionChangeError, changeRetention, setLegalHold } from '../records/lock-changes';
import { ObjectLockedError, deleteCurrent, deleteVersion, governanceFields } from '../records/objects';
import type { StorageObjectVersion } from '../records/objects';
import { govern, storageRefusal } from './govern-operation';
import type { Governed } from './govern-operation';
import { parseRetention } from './parse-governance';
import { readJsonBody, versionIdOf } from './request-input';

function notFound(bucket: Bucket, key: string): EcsError {
  return new EcsError(ErrorCode.NotFound, `object ${key} not found in bucket ${bucket.name}`, { field: 'key' });
}

function lockedDetails(bucket: Bucket, key: string, version: StorageObjectVersion): Record<string, string | boolean | null> {
  return {
    bucket: bucket.name,
    object_key: key,
    version_id: version.versionId,
    retention_until: version.retentionUntil?.toISOString() ?? null,
    legal_hold: version.legalHold,
    lock_mode: version.lockMode,
  };
}

function lockedRefusal(
  context: PlaneContext,
  governed: Governed,
  bucket: Bucket,
  key: string,
  error: ObjectLockedError,
  verb: string,
): Promise<EcsError> {
  return storageRefusal(context, governed, {
    reasonClass: 'policy_denied',
    reasonCode: error.reasonCode,
    reason: `${verb} refused: ${error.reasonCode.replace(/_/g, ' ')}`,
    code: ErrorCode.ObjectLocked,
    details: lockedDetails(bucket, key, error.version),
  });
}

/**
 * `DELETE /{bucket}/objects/{key}`: a delete marker (versioned bucket) or removal of the
 * current version; with `?version_id=` that version is removed for good. Refused with
 * evidence while retention is in force or a legal hold is on.
 */
export async function deleteObject(context: PlaneContext, req: Request, res: Response, bucket: Bucket, key: string): Promise<void> {
  const versionId = versionIdOf(req);
  const eventType = versionId === undefined ? 'object.delete' : 'object.version.delete';
  const governed = await govern(context, bucket, { permission: 'storage.delete', eventType, requireActive: true });
  const target = { bucket: bucket.name, key, tenantId: bucket.tenantId };
  try {
    if (versionId !== undefined) {
      const result = await deleteVersion(context.db, { ...target, versionId }, governed.evidence);
      if (!result)
        throw new EcsError(ErrorCode.NotFound, `version ${versionId} of ${key} not found in bucket ${bucket.name}`, {
          field: 'version_id',
        });
      res.setHeader('x-eosc-version-id', result.deleted.versionId);
      res.setHeader('x-eosc-evidence-pointer', result.event.evidence_pointer);
      res.status(204).end();
      return;
    }
    const result = await deleteCurrent(context.db, { ...target, versioned: bucket.versioning }, governed.evidence);
    if (!result) throw notFound(bucket, key);
    res.setHeader('x-eosc-version-id', (result.marker ?? result.deleted).versionId);
    res.setHeader('x-eosc-evidence-pointer', result.event.evidence_pointer);
    res.status(204).end();
  } catch (error) {
    if (error instanceof ObjectLockedError) throw await lockedRefusal(context, governed, bucket, key, error, 'delete');
    throw error;
  }
}

const legalHoldBody = z.strictObject({
  status: z.enum(['ON', 'OFF']),
  reason: z.string().min(1).max(1024).optional(),
});

/**
 * `PUT /{bucket}/objects/{key}?legal_hold` with `{"status": "ON"|"OFF", "reason"?}`:
 * places or releases a legal hold (`object.legal_hold` evidence). Placing one is allowed
 * while the tenant is suspended; releasing one is not.
 */
export async function putLegalHold(context: PlaneContext, req: Request, res: Response, bucket: Bucket, key: string): Promise<void> {
  const versionId = versionIdOf(req);
  const body = await readJsonBody(req, legalHoldBody);
  const on = body.status === 'ON';
  const governed = await govern(context, bucket, {
    permission: 'storage.govern',
    eventType: 'object.legal_hold',
    action: on ? 'object.legal_hold.on' : 'object.legal_hold.off',
    requireActive: !on,
  });
  const result = await setLegalHold(
    context.db,
    { bucket: bucket.name, key, versionId, tenantId: bucket.tenantId },
    { on, reason: body.reason },
    governed.evidence,
  );
  if (!result) throw notFound(bucket, key);
  res.setHeader('x-eosc-evidence-pointer', result.event.evidence_pointer);
  res.json({
    bucket: bucket.name,
    key,
    version_id: result.version.versionId,
    legal_hold: result.version.legalHold,
    evidence_pointer: result.event.evidence_pointer,
  });
}

const retentionBody = z.strictObject({
  retention_ttl: z.string().min(1).max(64),
  /** Governance-mode buckets only: shorten a retention in force (needs storage.govern). */
  bypass_governance: z.boolean().optional(),
});

/**
 * `PUT /{bucket}/objects/{key}?retention` with `{"retention_ttl": "P90D" | RFC 3339}`:
 * sets when the version's retention ends (`object.retention.change` evidence with the old
 * and new values). Extending is always allowed; shortening a retention in force is refused
 * with evidence, except in a governance-mode bucket with `bypass_governance: true`.
 */
export async function putRetention(context: PlaneContext, req: Request, res: Response, bucket: Bucket, key: string): Promise<void> {
  const versionId = versionIdOf(req);
  const body = await readJsonBody(req, retentionBody);
  const now = new Date();
  const until = parseRetention(body.retention_ttl, now);
  if (!until)
    throw new EcsError(ErrorCode.InvalidRetentionFormat, 'retention_ttl must be an ISO 8601 duration (P30D) or an RFC 3339 timestamp', {
      field: 'retention_ttl',
    });
  const governed = await govern(context, bucket, {
    permission: 'storage.govern',
    eventType: 'object.retention.change',
    requireActive: false,
  });
  const bypass = body.bypass_governance === true && bucket.lockMode === 'governance' && mayPerform(context.caller, 'storage.govern');
  if (governed.tenant.status !== 'active' && bypass) {
    throw await storageRefusal(context, governed, {
      reasonClass: 'policy_denied',
      reasonCode: `tenant_${governed.tenant.status}`,
      reason: `tenant ${governed.tenant.id} is ${governed.tenant.status}: retention can only be extended`,
      code: ErrorCode.PolicyDenied,
      details: { bucket: bucket.name, object_key: key },
    });
  }
  try {
    const result = await changeRetention(
      context.db,
      { bucket: bucket.name, key, versionId, tenantId: bucket.tenantId },
      {
        retentionTtl: body.retention_ttl,
        until,
        bucketLockMode: bucket.lockMode,
        mayShorten: (version) => bypass && version.lockMode !== 'compliance',
      },
      governed.evidence,
      now,
    );
    res.setHeader('x-eosc-evidence-pointer', result.event.evidence_pointer);
    res.json({
      bucket: bucket.name,
      key,
      version_id: result.version.versionId,
      retention_ttl: result.version.retentionTtl,
      retention_until: result.version.retentionUntil?.toISOString() ?? null,
      lock_mode: result.version.lockMode,
      evidence_pointer: result.event.evidence_pointer,
    });
  } catch (error) {
    if (!(error instanceof RetentionChangeError)) throw error;
    if (!error.version) throw notFound(bucket, key);
    throw await storageRefusal(context, governed, {
      reasonClass: 'policy_denied',
      reasonCode: error.reasonCode,
      reason: `retention of ${key} ends ${error.version.retentionUntil?.toISOString()}; ${error.version.lockMode ?? 'compliance'} mode allows no earlier end`,
      code: ErrorCode.ObjectLocked,
      details: {
        ...governanceFields(error.version),
        requested_retention_ttl: body.retention_ttl,
        requested_retention_until: until.toISOString(),
      },
    });
  }
}
