import { randomUUID } from 'node:crypto';
import type { Database } from '../../../lib/db/database';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import type { EvidenceEvent, EvidenceInput } from '../../../lib/evidence/evidence-event';
import {
  appendEvidence,
  appendEvidenceWithChange,
  evidencePointerOf,
  evidenceTransaction,
  recordEvidence,
} from '../../../lib/evidence/ledger';
import type { GovernedChange, LedgerTransaction } from '../../../lib/evidence/ledger';
import { bucketGone } from './bucket-lock';
import type { StorageObjectVersion } from '../../../prisma/generated/client';

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

/**
 * Holds the bucket row (FOR SHARE, as `holdBucket`: a bucket deleted meanwhile refuses the
 * write), creates or locks the object row of the key, and reads its current version: one
 * statement.
 */
const LOCK_OBJECT = `WITH held_bucket AS (
    SELECT versioning FROM data_buckets WHERE name = $1 AND tenant_id = $2 FOR SHARE
  ), locked_object AS (
    INSERT INTO data_objects (id, bucket, key, tenant_id) SELECT $3::uuid, $1, $4, $2 FROM held_bucket
    ON CONFLICT (bucket, key) DO UPDATE SET updated_at = now()
    RETURNING id, current_version_id
  )
  SELECT held_bucket.versioning, locked_object.id::text AS "lockedObjectId",
    locked_object.current_version_id AS "lockedCurrentVersionId", ${VERSION_COLUMNS}
  FROM held_bucket LEFT JOIN locked_object ON true
    LEFT JOIN data_object_versions v ON v.version_id = locked_object.current_version_id`;

type VersionRow = Omit<StorageObjectVersion, 'size' | 'createdAt' | 'retentionUntil'> & {
  size: string;
  createdAt: Date | string;
  retentionUntil: Date | string | null;
};

/** A version as a statement answers it (`VERSION_COLUMNS`): size as text, timestamps as Date or ISO text. */
function versionFromRow(row: VersionRow): StorageObjectVersion {
  return {
    ...row,
    size: BigInt(row.size),
    createdAt: new Date(row.createdAt),
    retentionUntil: row.retentionUntil === null ? null : new Date(row.retentionUntil),
  };
}

/** Creates (or locks) the object row of a key and returns its id and current version, inside `tx`. */
async function lockObject(
  tx: LedgerTransaction,
  bucket: string,
  key: string,
  tenantId: string,
): Promise<{ id: string; current: StorageObjectVersion | null; versioned: boolean }> {
  const [row] = await tx.$queryRawUnsafe<
    Array<VersionRow & { versioning: boolean; lockedObjectId: string; lockedCurrentVersionId: string | null }>
  >(LOCK_OBJECT, bucket, tenantId, randomUUID(), key);
  if (!row) throw bucketGone(bucket);
  const { versioning, lockedObjectId, lockedCurrentVersionId, ...version } = row;
  let current: StorageObjectVersion | null = null;
  if (lockedCurrentVersionId !== null) {
    // A version made current by a transaction that committed after this statement began is
    // past its snapshot: read it again, now that the object row is locked.
    current =
      version.versionId === lockedCurrentVersionId
        ? versionFromRow(version)
        : await tx.storageObjectVersion.findUnique({ where: { versionId: lockedCurrentVersionId } });
  }
  return { id: lockedObjectId, current, versioned: versioning };
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
    const eventType = data.eventType ?? 'object.put';
    const stored: StorageObjectVersion = {
      versionId: randomUUID(),
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
      lockMode: data.retentionUntil.getTime() > now.getTime() ? data.bucketLockMode : null,
      deleteMarker: false,
      userMetadata: data.userMetadata,
      origin: data.origin,
      putEvidencePointer: null,
      createdAt: now,
    };
    const input: EvidenceInput = {
      ...accepted(evidence),
      tenantId: data.tenantId,
      eventType,
      details: {
        action: eventType,
        ...governanceFields(stored),
        integrity_verified: true,
        versioning: object.versioned,
        origin: data.origin,
        ...(object.current && !object.current.deleteMarker ? { replaced_version_id: object.current.versionId } : {}),
        ...data.extraDetails,
      },
    };
    stored.putEvidencePointer = evidencePointerOf(input, now);
    // The version, the object's move to it and the event: one statement.
    const { rows, events } = await appendEvidenceWithChange(tx, insertVersion(stored, now), [input], now);
    if (!object.versioned && object.current) {
      await tx.$executeRaw`DELETE FROM data_object_versions WHERE version_id = ${object.current.versionId}`;
    }
    return { version: versionFromRow(rows[0] as unknown as VersionRow), event: events[0]! };
  });
}

/** Inserts a version (or a delete marker) and makes it its object's current one (`$1` the version id, `$2` the object id). */
const INSERT_VERSION = `INSERT INTO data_object_versions AS v
    (version_id, object_id, bucket, key, tenant_id, sha256, s3_etag, size, content_type, jurisdiction, retention_ttl,
     retention_until, classification, integrity, evidence_pointer, data_product_id, usage_policy_snapshot_id,
     consent_token_ref, legal_hold, lock_mode, user_metadata, origin, put_evidence_pointer, created_at, delete_marker)
  VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8::bigint, $9, $10, $11, $12::timestamptz, $13, $14, $15, $16, $17, $18,
    $19::boolean, $20, $21, $22, $23, $24::timestamptz, $25::boolean)
  RETURNING ${VERSION_COLUMNS}`;

const MAKE_CURRENT = 'UPDATE data_objects SET current_version_id = $1, updated_at = $24::timestamptz WHERE id = $2::uuid';

function insertVersion(version: StorageObjectVersion, now: Date): GovernedChange {
  return {
    sql: INSERT_VERSION,
    alongside: [MAKE_CURRENT],
    params: [
      version.versionId,
      version.objectId,
      version.bucket,
      version.key,
      version.tenantId,
      version.sha256,
      version.s3Etag,
      version.size.toString(),
      version.contentType,
      version.jurisdiction,
      version.retentionTtl,
      version.retentionUntil?.toISOString() ?? null,
      version.classification,
      version.integrity,
      version.evidencePointer,
      version.dataProductId,
      version.usagePolicySnapshotId,
      version.consentTokenRef,
      version.legalHold,
      version.lockMode,
      version.userMetadata,
      version.origin,
      version.putEvidencePointer,
      now.toISOString(),
      version.deleteMarker,
    ],
  };
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
    const input: EvidenceInput = {
      ...accepted(evidence),
      tenantId: target.tenantId,
      eventType: 'object.delete',
      details: { action: 'object.delete', ...governanceFields(current), delete_marker: object.versioned },
    };
    // The change and the event: one statement.
    if (!object.versioned) {
      const { events } = await appendEvidenceWithChange(
        tx,
        { sql: DELETE_VERSION, alongside: [CLEAR_CURRENT], params: [current.versionId, object.id, now.toISOString()] },
        [input],
        now,
      );
      return { deleted: current, marker: null, event: events[0]! };
    }
    const marker: StorageObjectVersion = {
      versionId: randomUUID(),
      objectId: object.id,
      bucket: target.bucket,
      key: target.key,
      tenantId: target.tenantId,
      sha256: null,
      s3Etag: null,
      size: 0n,
      contentType: null,
      jurisdiction: null,
      retentionTtl: null,
      retentionUntil: null,
      classification: null,
      integrity: null,
      evidencePointer: null,
      dataProductId: null,
      usagePolicySnapshotId: null,
      consentTokenRef: null,
      legalHold: false,
      lockMode: null,
      deleteMarker: true,
      userMetadata: null,
      origin: 'put',
      putEvidencePointer: evidencePointerOf(input, now),
      createdAt: now,
    };
    const { rows, events } = await appendEvidenceWithChange(tx, insertVersion(marker, now), [input], now);
    return { deleted: current, marker: versionFromRow(rows[0] as unknown as VersionRow), event: events[0]! };
  });
}

/** Deletes the current version of an unversioned key (`$1`), and leaves its object (`$2`) with none. */
const DELETE_VERSION = 'DELETE FROM data_object_versions WHERE version_id = $1 RETURNING version_id';
const CLEAR_CURRENT = 'UPDATE data_objects SET current_version_id = NULL, updated_at = $3::timestamptz WHERE id = $2::uuid';

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
