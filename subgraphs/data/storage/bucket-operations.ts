import type { Response } from 'express';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { BucketNotEmptyError, deleteEmptyBucket, enableVersioning } from '../records/buckets';
import type { Bucket } from '../records/buckets';
import { govern, loadBucket, storageRefusal } from './govern-operation';

function bucketNotFound(name: string): EcsError {
  return new EcsError(ErrorCode.NotFound, `bucket ${name} not found`, { field: 'bucket' });
}

/**
 * Deletes an empty bucket of the caller's tenant with `storage.bucket.delete` evidence and
 * answers the event's pointer. Needs `storage.delete` in the bucket's tenant, which must be
 * active. A bucket that still holds an object version, a delete marker or an open multipart
 * upload is refused (`ECS_CONFLICT`, reason `bucket_not_empty`) with evidence; a missing one is
 * `ECS_NOT_FOUND`. Shared by the data plane's `DELETE /{bucket}` and the `deleteBucket` mutation.
 */
export async function deleteBucketGoverned(context: PlaneContext, name: string): Promise<{ evidencePointer: string }> {
  const bucket = await loadBucket(context, name);
  const governed = await govern(context, bucket, { permission: 'storage.delete', eventType: 'storage.bucket.delete', requireActive: true });
  try {
    const deleted = await deleteEmptyBucket({ db: context.db, name: bucket.name, tenantId: bucket.tenantId, evidence: governed.evidence });
    if (!deleted) throw bucketNotFound(name);
    return { evidencePointer: deleted.event.evidence_pointer };
  } catch (error) {
    if (!(error instanceof BucketNotEmptyError)) throw error;
    const { objectVersions, openUploads } = error.contents;
    throw await storageRefusal(context, governed, {
      reasonClass: 'policy_denied',
      reasonCode: 'bucket_not_empty',
      reason: `bucket ${name} is not empty: it holds ${objectVersions} object version(s) (delete markers included) and ${openUploads} open multipart upload(s)`,
      code: ErrorCode.Conflict,
      details: { bucket: name, object_versions: objectVersions, open_uploads: openUploads },
    });
  }
}

/** `DELETE /{bucket}`: 204 with the evidence pointer in `x-eosc-evidence-pointer` (see deleteBucketGoverned). */
export async function deleteBucket(context: PlaneContext, res: Response, name: string): Promise<void> {
  const { evidencePointer } = await deleteBucketGoverned(context, name);
  res.setHeader('x-eosc-evidence-pointer', evidencePointer);
  res.status(204).end();
}

/** A versioning change's bucket and its governance (`storage.govern` in an active tenant; refusals evidenced). */
async function governVersioning(context: PlaneContext, name: string) {
  const bucket = await loadBucket(context, name);
  const governed = await govern(context, bucket, {
    permission: 'storage.govern',
    eventType: 'storage.bucket.versioning',
    requireActive: true,
  });
  return { bucket, governed };
}

/**
 * Turns versioning on for a bucket of the caller's tenant (`storage.govern`, an active tenant),
 * with `storage.bucket.versioning` evidence; a bucket already versioned is answered unchanged.
 */
export async function enableBucketVersioning(context: PlaneContext, name: string): Promise<Bucket> {
  const { bucket, governed } = await governVersioning(context, name);
  const changed = await enableVersioning({ db: context.db, name: bucket.name, tenantId: bucket.tenantId, evidence: governed.evidence });
  if (!changed) throw bucketNotFound(name);
  return changed.bucket;
}

/**
 * Suspending versioning (`storage.govern`, an active tenant): an unversioned bucket is answered
 * unchanged; a versioned one is refused with `storage.bucket.versioning` evidence, because every
 * bucket locks its objects and a lock needs every version kept (S3 likewise refuses to suspend
 * versioning on a bucket with object lock).
 */
export async function suspendBucketVersioning(context: PlaneContext, name: string): Promise<Bucket> {
  const { bucket, governed } = await governVersioning(context, name);
  if (!bucket.versioning) return bucket;
  throw await storageRefusal(context, governed, {
    reasonClass: 'policy_denied',
    reasonCode: 'object_lock_requires_versioning',
    reason: `bucket ${name} locks its objects (${bucket.lockMode} mode), so its versioning cannot be suspended`,
    code: ErrorCode.Conflict,
    details: { bucket: name, requested: 'suspended', lock_mode: bucket.lockMode },
  });
}
