import { randomUUID } from 'node:crypto';
import type { Database } from '../../../lib/db/database';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import type { EvidenceEvent } from '../../../lib/evidence/evidence-event';
import { appendEvidence, evidenceTransaction, recordEvidence } from '../../../lib/evidence/ledger';
import type { LedgerTransaction } from '../../../lib/evidence/ledger';
import type { StorageObjectVersion } from '../../../prisma/generated/client';
import { holdBucket } from './bucket-lock';

export type { StorageObjectVersion };

/** Evidence context every storage event carries. */
export interface StorageEvidence {
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
  policySnapshotId: string | undefined;
}

/** The envelope fields of an accepted storage event. */
export function accepted(evidence: StorageEvidence) {
  return {
    actor: evidence.actor,
    outcome: 'accepted' as const,
    correlationId: evidence.correlationId,
    authoritySnapshotId: evidence.authoritySnapshotId,
    policySnapshotId: evidence.policySnapshotId,
  };
}

/** Thrown inside a transaction when the object turned out to be locked; the caller records the refusal. */
export class ObjectLockedError extends Error {
  constructor(
    readonly reasonCode: 'retention_in_force' | 'legal_hold_on',
    readonly version: StorageObjectVersion,
  ) {
    super(reasonCode);
  }
}

/** Why a version may not be deleted or overwritten now, if anything. */
export function lockOf(version: StorageObjectVersion | null | undefined, now: Date): ObjectLockedError['reasonCode'] | undefined {
  if (!version || version.deleteMarker) return undefined;
  if (version.legalHold) return 'legal_hold_on';
  if (version.retentionUntil && version.retentionUntil.getTime() > now.getTime()) return 'retention_in_force';
  return undefined;
}

/** S3's ETag of a version (unquoted): its recorded one, or its SHA-256 when stored before ETags were recorded. */
export function s3EtagOf(version: StorageObjectVersion): string | null {
  return version.s3Etag ?? version.sha256;
}

/** The governance fields of a version as evidence fields (snake_case, ws2 names). */
export function governanceFields(version: StorageObjectVersion): JsonObject {
  return {
    bucket: version.bucket,
    object_key: version.key,
    object_id: version.objectId,
    version_id: version.versionId,
    jurisdiction: version.jurisdiction,
    retention_ttl: version.retentionTtl,
    retention_until: version.retentionUntil?.toISOString() ?? null,
    classification: version.classification,
    integrity: version.integrity,
    size: Number(version.size),
    content_type: version.contentType,
    eosc_evidence_pointer: version.evidencePointer,
    data_product_id: version.dataProductId,
    usage_policy_snapshot_id: version.usagePolicySnapshotId,
    consent_token_ref: version.consentTokenRef,
    legal_hold: version.legalHold,
    lock_mode: version.lockMode,
  };
}

/** Every column of `data_object_versions` (as `v`), named as the model names them; `size` as text. */
const VERSION_COLUMNS = `v.version_id AS "versionId", v.object_id::text AS "objectId", v.bucket, v.key, v.tenant_id AS "tenantId",
  v.sha256, v.s3_etag AS "s3Etag", v.size::text AS size, v.content_type AS "contentType", v.jurisdiction,
  v.retention_ttl AS "retentionTtl", v.retention_until AS "retentionUntil", v.classification, v.integrity,
  v.evidence_pointer AS "evidencePointer", v.data_product_id AS "dataProductId",
  v.usage_policy_snapshot_id AS "usagePolicySnapshotId", v.consent_token_ref AS "consentTokenRef",
  v.legal_hold AS "legalHold", v.lock_mode AS "lockMode", v.delete_marker AS "deleteMarker",
  v.user_metadata AS "userMetadata", v.origin, v.put_evidence_pointer AS "putEvidencePointer", v.created_at AS "createdAt"`;

/**
 * The current version of a key (null when none; it may be a delete marker). One statement
 * through the driver: every object read starts here, and Prisma's per-query work cost more
 * than the query (the row equals Prisma's, see plane-driver-reads.test.ts).
 */
export async function findCurrentVersion(db: Database, bucket: string, key: string): Promise<StorageObjectVersion | null> {
  const rows = await db.query<Omit<StorageObjectVersion, 'size'> & { size: string }>(
    `SELECT ${VERSION_COLUMNS} FROM data_objects o JOIN data_object_versions v ON v.version_id = o.current_version_id
      WHERE o.bucket = $1 AND o.key = $2`,
    [bucket, key],
  );
  const row = rows[0];
  return row ? { ...row, size: BigInt(row.size) } : null;
}

export async function findVersion(db: Database, bucket: string, key: string, versionId: string): Promise<StorageObjectVersion | null> {
  const version = await db.prisma.storageObjectVersion.findUnique({ where: { versionId } });
  return version && version.bucket === bucket && version.key === key ? version : null;
}

/** Creates (or locks) the object row of a key and returns its id and current version, inside `tx`. */
async function lockObject(
  tx: LedgerTransaction,
  bucket: string,
  key: string,
  tenantId: string,
): Promise<{ id: string; current: StorageObjectVersion | null; versioned: boolean }> {
  const { versioning } = await holdBucket(tx, bucket, tenantId);
  const rows = await tx.$queryRaw<Array<{ id: string; current_version_id: string | null }>>`
    INSERT INTO data_objects (id, bucket, key, tenant_id) VALUES (${randomUUID()}::uuid, ${bucket}, ${key}, ${tenantId})
    ON CONFLICT (bucket, key) DO UPDATE SET updated_at = now()
    RETURNING id::text AS id, current_version_id`;
  const row = rows[0]!;
  const current = row.current_version_id
    ? await tx.storageObjectVersion.findUnique({ where: { versionId: row.current_version_id } })
    : null;
  return { id: row.id, current, versioned: versioning };
}

export interface NewVersion {
  bucket: string;
  key: string;
  tenantId: string;
  versioned: boolean;
  sha256: string;
  /** S3's ETag (unquoted); null when not known (a copy of a version stored before it was recorded). */
  s3Etag: string | null;
  size: number;
  contentType: string;
  jurisdiction: string;
  retentionTtl: string;
  retentionUntil: Date;
  classification: string;
  integrity: string;
  evidencePointer: string;
  dataProductId: string;
  usagePolicySnapshotId: string;
  consentTokenRef: string;
  legalHold: boolean;
  /** S3 user metadata in stored form (JSON, sorted names), or null. */
  userMetadata: string | null;
  /** The bucket's lock mode, recorded on versions whose retention is in force. */
  bucketLockMode: string;
  origin: 'put' | 'copy' | 'multipart';
  /** Evidence event type (`object.put` unless copied) and fields added to its details. */
  eventType?: string;
  extraDetails?: JsonObject;
  /** Runs in the same transaction before the version is written (e.g. closing a multipart upload). */
  within?: (tx: LedgerTransaction) => Promise<void>;
}

/**
 * Records a stored blob as the key's new current version with its `object.put` (or
 * `object.copy`) evidence, in one transaction. In an unversioned bucket a locked current
 * version refuses the overwrite (ObjectLockedError, nothing written), and an unlocked one
 * is replaced: its row goes, its blob is left to the orphan sweep.
 */
export async function putVersion(
  db: Database,
  data: NewVersion,
  evidence: StorageEvidence,
  now = new Date(),
): Promise<{ version: StorageObjectVersion; event: EvidenceEvent }> {
  return evidenceTransaction(db, data.tenantId, async (tx) => {
    await data.within?.(tx);
    const object = await lockObject(tx, data.bucket, data.key, data.tenantId);
    const lock = object.versioned ? undefined : lockOf(object.current, now);
    if (lock) throw new ObjectLockedError(lock, object.current!);
    const versionId = randomUUID();
    const lockMode = data.retentionUntil.getTime() > now.getTime() ? data.bucketLockMode : null;
    const eventType = data.eventType ?? 'object.put';
    const created = await tx.storageObjectVersion.create({
      data: {
        versionId,
        objectId: object.id,
        bucket: data.bucket,
        key: data.key,
        tenantId: data.tenantId,
        sha256: data.sha256,
        s3Etag: data.s3Etag,
        size: BigInt(data.size),
        contentType: data.contentType,
        jurisdiction: data.jurisdiction,
        retentionTtl: data.retentionTtl,
        retentionUntil: data.retentionUntil,
        classification: data.classification,
        integrity: data.integrity,
        evidencePointer: data.evidencePointer,
        dataProductId: data.dataProductId,
        usagePolicySnapshotId: data.usagePolicySnapshotId,
        consentTokenRef: data.consentTokenRef,
        legalHold: data.legalHold,
        userMetadata: data.userMetadata,
        lockMode,
        origin: data.origin,
        createdAt: now,
      },
    });
    const event = await appendEvidence(tx, {
      ...accepted(evidence),
      tenantId: data.tenantId,
      eventType,
      details: {
        action: eventType,
        ...governanceFields(created),
        integrity_verified: true,
        versioning: object.versioned,
        origin: data.origin,
        ...(object.current && !object.current.deleteMarker ? { replaced_version_id: object.current.versionId } : {}),
        ...data.extraDetails,
      },
    });
    const version = await tx.storageObjectVersion.update({ where: { versionId }, data: { putEvidencePointer: event.evidence_pointer } });
    await tx.storageObject.update({ where: { id: object.id }, data: { currentVersionId: versionId, updatedAt: now } });
    if (!object.versioned && object.current) await tx.storageObjectVersion.delete({ where: { versionId: object.current.versionId } });
    return { version, event };
  });
}

/**
 * Deletes the current version with `object.delete` evidence: a delete marker in a versioned
 * bucket (older versions stay readable by id), the version itself otherwise. Refuses
 * (ObjectLockedError) when locked.
 */
export async function deleteCurrent(
  db: Database,
  target: { bucket: string; key: string; tenantId: string; versioned: boolean },
  evidence: StorageEvidence,
  now = new Date(),
): Promise<{ deleted: StorageObjectVersion; marker: StorageObjectVersion | null; event: EvidenceEvent } | null> {
  return evidenceTransaction(db, target.tenantId, async (tx) => {
    const object = await lockObject(tx, target.bucket, target.key, target.tenantId);
    const current = object.current;
    if (!current || current.deleteMarker) return null;
    const lock = lockOf(current, now);
    if (lock) throw new ObjectLockedError(lock, current);
    const event = await appendEvidence(tx, {
      ...accepted(evidence),
      tenantId: target.tenantId,
      eventType: 'object.delete',
      details: { action: 'object.delete', ...governanceFields(current), delete_marker: object.versioned },
    });
    if (!object.versioned) {
      await tx.storageObject.update({ where: { id: object.id }, data: { currentVersionId: null, updatedAt: now } });
      await tx.storageObjectVersion.delete({ where: { versionId: current.versionId } });
      return { deleted: current, marker: null, event };
    }
    const marker = await tx.storageObjectVersion.create({
      data: {
        versionId: randomUUID(),
        objectId: object.id,
        bucket: target.bucket,
        key: target.key,
        tenantId: target.tenantId,
        deleteMarker: true,
        putEvidencePointer: event.evidence_pointer,
        createdAt: now,
      },
    });
    await tx.storageObject.update({ where: { id: object.id }, data: { currentVersionId: marker.versionId, updatedAt: now } });
    return { deleted: current, marker, event };
  });
}

/**
 * Permanently removes one version (`object.version.delete` evidence); when it was the current
 * one, the newest remaining version becomes current. Refuses (ObjectLockedError) when locked;
 * null when the key has no such version.
 */
export async function deleteVersion(
  db: Database,
  target: { bucket: string; key: string; tenantId: string; versionId: string },
  evidence: StorageEvidence,
  now = new Date(),
): Promise<{ deleted: StorageObjectVersion; current: StorageObjectVersion | null; event: EvidenceEvent } | null> {
  return evidenceTransaction(db, target.tenantId, async (tx) => {
    const object = await lockObject(tx, target.bucket, target.key, target.tenantId);
    const version = await tx.storageObjectVersion.findUnique({ where: { versionId: target.versionId } });
    if (!version || version.objectId !== object.id) return null;
    const lock = lockOf(version, now);
    if (lock) throw new ObjectLockedError(lock, version);
    const wasCurrent = object.current?.versionId === version.versionId;
    let current = object.current;
    if (wasCurrent) {
      current = await tx.storageObjectVersion.findFirst({
        where: { objectId: object.id, versionId: { not: version.versionId } },
        orderBy: [{ createdAt: 'desc' }, { versionId: 'desc' }],
      });
      await tx.storageObject.update({ where: { id: object.id }, data: { currentVersionId: current?.versionId ?? null, updatedAt: now } });
    }
    await tx.storageObjectVersion.delete({ where: { versionId: version.versionId } });
    const event = await appendEvidence(tx, {
      ...accepted(evidence),
      tenantId: target.tenantId,
      eventType: 'object.version.delete',
      details: {
        action: 'object.version.delete',
        ...governanceFields(version),
        delete_marker: version.deleteMarker,
        was_current: wasCurrent,
        current_version_id: current?.versionId ?? null,
      },
    });
    return { deleted: version, current, event };
  });
}

/** Every version of a key (delete markers included), newest first. */
export async function listVersions(
  db: Database,
  bucket: string,
  key: string,
  first: number,
  beforeVersionId?: string,
): Promise<{ items: StorageObjectVersion[]; hasMore: boolean }> {
  const where = { bucket, key };
  let cursor: { createdAt: Date; versionId: string } | undefined;
  if (beforeVersionId !== undefined) {
    const anchor = await db.prisma.storageObjectVersion.findUnique({ where: { versionId: beforeVersionId } });
    if (anchor && anchor.bucket === bucket && anchor.key === key) cursor = { createdAt: anchor.createdAt, versionId: anchor.versionId };
  }
  const rows = await db.prisma.storageObjectVersion.findMany({
    where: cursor
      ? { ...where, OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, versionId: { lt: cursor.versionId } }] }
      : where,
    orderBy: [{ createdAt: 'desc' }, { versionId: 'desc' }],
    take: first + 1,
  });
  return { items: rows.slice(0, first), hasMore: rows.length > first };
}

/** True when a version or a multipart part still refers to the blob. */
export async function blobReferenced(db: Database, sha256: string): Promise<boolean> {
  const [version, part] = await Promise.all([
    db.prisma.storageObjectVersion.findFirst({ where: { sha256 }, select: { versionId: true } }),
    db.prisma.multipartPart.findFirst({ where: { sha256 }, select: { uploadId: true } }),
  ]);
  return version !== null || part !== null;
}

/** `object.get` and its `data.usage.receipt`, committed before any byte is sent. */
export async function recordAccess(
  db: Database,
  version: StorageObjectVersion,
  evidence: StorageEvidence,
  access: { consentTokenRef?: string; purposeId?: string; readVerified?: boolean },
): Promise<{ get: EvidenceEvent; receipt: EvidenceEvent }> {
  const base = { ...accepted(evidence), tenantId: version.tenantId };
  const getId = randomUUID();
  const receiptId = randomUUID();
  const accessFields: JsonObject = {
    ...(access.consentTokenRef ? { access_consent_token_ref: access.consentTokenRef } : {}),
    ...(access.purposeId ? { purpose_id: access.purposeId } : {}),
  };
  // Both events in one statement, so they commit together.
  const [get, receipt] = await recordEvidence(db, [
    {
      ...base,
      eventId: getId,
      eventType: 'object.get',
      details: {
        action: 'object.get',
        ...governanceFields(version),
        usage_receipt_id: receiptId,
        read_verified: access.readVerified ?? false,
        ...accessFields,
      },
    },
    {
      ...base,
      eventType: 'data.usage.receipt',
      details: {
        action: 'object.get',
        usage_receipt_id: receiptId,
        access_event_id: getId,
        bucket: version.bucket,
        object_key: version.key,
        version_id: version.versionId,
        data_product_id: version.dataProductId,
        usage_policy_snapshot_id: version.usagePolicySnapshotId,
        consent_token_ref: version.consentTokenRef,
        bytes: Number(version.size),
        ...accessFields,
      },
    },
  ]);
  return { get: get!, receipt: receipt! };
}

export interface ObjectListing {
  items: StorageObjectVersion[];
  hasMore: boolean;
}

/** Current, non-deleted versions of a bucket's keys in key order, after `afterKey`. */
export async function listObjects(
  db: Database,
  options: { bucket: string; prefix?: string; afterKey?: string; first: number },
): Promise<ObjectListing> {
  const rows = await db.prisma.storageObject.findMany({
    where: {
      bucket: options.bucket,
      current: { deleteMarker: false },
      ...(options.prefix || options.afterKey !== undefined
        ? {
            key: {
              ...(options.prefix ? { startsWith: options.prefix } : {}),
              ...(options.afterKey !== undefined ? { gt: options.afterKey } : {}),
            },
          }
        : {}),
    },
    orderBy: { key: 'asc' },
    take: options.first + 1,
    include: { current: true },
  });
  const items = rows.slice(0, options.first).map((row) => row.current!);
  return { items, hasMore: rows.length > options.first };
}
