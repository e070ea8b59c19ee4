import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { EvidenceEvent } from '../../../lib/evidence/evidence-event';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { LedgerTransaction } from '../../../lib/evidence/ledger';
import type { Bucket } from '../../../prisma/generated/client';
import { accepted } from './objects';
import type { StorageEvidence } from './objects';
import { isUniqueViolation } from '../../../lib/db/unique-violation';

export type { Bucket };

/** Every column of `data_buckets`, named as the `Bucket` model names them. */
const BUCKET_COLUMNS = `name, tenant_id AS "tenantId", jurisdiction, default_classification AS "defaultClassification",
  versioning, lock_mode AS "lockMode", default_retention AS "defaultRetention", created_at AS "createdAt"`;

/**
 * Buckets by name, for `_entities` batches and every object request: one query per batch, in
 * the order asked, through the driver (Prisma's per-query work cost more than the query).
 */
export async function getBucketsByNames({ db, names }: { db: Database; names: readonly string[] }): Promise<Array<Bucket | null>> {
  const rows = await db.query<Bucket>(`SELECT ${BUCKET_COLUMNS} FROM data_buckets WHERE name = ANY($1::text[])`, [[...names]]);
  const byName = new Map(rows.map((row) => [row.name, row]));
  return names.map((name) => byName.get(name) ?? null);
}

/** Buckets of several tenants in one query, by name. */
export async function findBucketsOfTenants({ db, tenantIds }: { db: Database; tenantIds: readonly string[] }): Promise<Bucket[][]> {
  // Through the driver: a tenant's buckets are read on every query that names them, and
  // Prisma's per-query work cost more than the query.
  const rows = await db.query<Bucket>(`SELECT ${BUCKET_COLUMNS} FROM data_buckets WHERE tenant_id = ANY($1::text[]) ORDER BY name`, [
    [...tenantIds],
  ]);
  return tenantIds.map((tenantId) => rows.filter((row) => row.tenantId === tenantId));
}

export interface CreateBucketData {
  name: string;
  tenantId: string;
  jurisdiction: string;
  defaultClassification: string;
  versioning: boolean;
  lockMode: 'compliance' | 'governance';
  defaultRetention: string | null;
}

/**
 * Refuses a name under which rows of an earlier bucket remain. A write checks its bucket when
 * the request arrives and commits after the body is stored, so one that began before that
 * bucket was deleted can land after it: what it wrote belongs to the old bucket's tenant and
 * must never appear in a new bucket of the same name, whoever creates it.
 */
async function assertNothingLeftUnder(tx: LedgerTransaction, name: string): Promise<void> {
  const object = await tx.storageObject.findFirst({ where: { bucket: name }, select: { id: true } });
  const leftover = object ?? (await tx.multipartUpload.findFirst({ where: { bucket: name }, select: { uploadId: true } }));
  if (leftover) {
    throw new EcsError(ErrorCode.Conflict, `bucket ${name} cannot be created: objects written to an earlier bucket of that name remain`, {
      field: 'name',
    });
  }
}

/** A bucket's settings as its creation and deletion events record them. */
function bucketSettings(bucket: Bucket) {
  return {
    bucket: bucket.name,
    jurisdiction: bucket.jurisdiction,
    default_classification: bucket.defaultClassification,
    versioning: bucket.versioning,
    lock_mode: bucket.lockMode,
    default_retention: bucket.defaultRetention,
  };
}

/** Creates a bucket and its `storage.bucket.create` evidence in one transaction. */
export async function createBucket({
  db,
  data,
  actor,
  correlationId,
  authoritySnapshotId,
}: {
  db: Database;
  data: CreateBucketData;
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
}): Promise<Bucket> {
  try {
    return await evidenceTransaction(db, data.tenantId, async (tx) => {
      const bucket = await tx.bucket.create({ data });
      await assertNothingLeftUnder(tx, bucket.name);
      await appendEvidence(tx, {
        tenantId: bucket.tenantId,
        eventType: 'storage.bucket.create',
        actor,
        outcome: 'accepted',
        correlationId,
        authoritySnapshotId,
        details: { action: 'storage.bucket.create', ...bucketSettings(bucket) },
      });
      return bucket;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new EcsError(ErrorCode.Conflict, `bucket ${data.name} already exists`, { field: 'name' });
    }
    throw error;
  }
}

/** A governed change of one bucket of `tenantId`, with the evidence context of its event. */
export interface BucketChange {
  db: Database;
  name: string;
  tenantId: string;
  evidence: StorageEvidence;
}

/** What a bucket still holds; deleting it waits until both are zero. */
export interface BucketContents {
  /** Versions of objects, delete markers included. */
  objectVersions: number;
  /** Multipart uploads neither completed nor aborted. */
  openUploads: number;
}

/** Thrown inside the deletion's transaction when the bucket is not empty: nothing is deleted. */
export class BucketNotEmptyError extends Error {
  constructor(
    readonly bucket: string,
    readonly contents: BucketContents,
  ) {
    super(`bucket ${bucket} is not empty`);
  }
}

/**
 * Deletes an empty bucket of `tenantId` and writes its `storage.bucket.delete` evidence in one
 * transaction; null when there is no such bucket (any more). The bucket row is locked before
 * its contents are counted, so two deletions cannot both pass the check. Refuses
 * (BucketNotEmptyError) while an object version, a delete marker or an open multipart upload
 * remains. Rows a bucket keeps after it emptied (keys whose last version went, closed uploads)
 * go with it: a bucket created later under the same name, by any tenant, inherits none of them.
 */
export async function deleteEmptyBucket({
  db,
  name,
  tenantId,
  evidence,
}: BucketChange): Promise<{ bucket: Bucket; event: EvidenceEvent } | null> {
  return evidenceTransaction(db, tenantId, async (tx) => {
    const locked = await tx.$queryRaw<Array<{ name: string }>>`
      SELECT name FROM data_buckets WHERE name = ${name} AND tenant_id = ${tenantId} FOR UPDATE`;
    if (locked.length === 0) return null;
    const objectVersions = await tx.storageObjectVersion.count({ where: { bucket: name } });
    const openUploads = await tx.multipartUpload.count({ where: { bucket: name, state: 'open' } });
    if (objectVersions > 0 || openUploads > 0) throw new BucketNotEmptyError(name, { objectVersions, openUploads });
    await tx.storageObject.deleteMany({ where: { bucket: name } });
    await tx.multipartUpload.deleteMany({ where: { bucket: name } });
    const bucket = await tx.bucket.delete({ where: { name } });
    const event = await appendEvidence(tx, {
      ...accepted(evidence),
      tenantId,
      eventType: 'storage.bucket.delete',
      details: { action: 'storage.bucket.delete', ...bucketSettings(bucket), created_at: bucket.createdAt.toISOString() },
    });
    return { bucket, event };
  });
}

/**
 * Turns versioning on for a bucket of `tenantId` with `storage.bucket.versioning` evidence, in
 * one transaction that locks the bucket row (writes in flight hold it too, so each commits under
 * one state or the other). Versions stored before keep their place: each stays its key's
 * current version until the next write. Null when there is no such bucket; a bucket already
 * versioned is answered as it is, with no event. Versioning cannot be turned off.
 */
export async function enableVersioning({
  db,
  name,
  tenantId,
  evidence,
}: BucketChange): Promise<{ bucket: Bucket; event: EvidenceEvent | null } | null> {
  return evidenceTransaction(db, tenantId, async (tx) => {
    const locked = await tx.$queryRaw<Array<{ versioning: boolean }>>`
      SELECT versioning FROM data_buckets WHERE name = ${name} AND tenant_id = ${tenantId} FOR UPDATE`;
    if (locked.length === 0) return null;
    if (locked[0]!.versioning) return { bucket: (await tx.bucket.findUnique({ where: { name } }))!, event: null };
    const bucket = await tx.bucket.update({ where: { name }, data: { versioning: true } });
    const event = await appendEvidence(tx, {
      ...accepted(evidence),
      tenantId,
      eventType: 'storage.bucket.versioning',
      details: { action: 'storage.bucket.versioning', ...bucketSettings(bucket), previous_versioning: false },
    });
    return { bucket, event };
  });
}
