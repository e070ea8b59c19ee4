import { randomUUID } from 'node:crypto';
import type { Database } from '../../../lib/db/database';
import type { EvidenceEvent } from '../../../lib/evidence/evidence-event';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { LedgerTransaction } from '../../../lib/evidence/ledger';
import type { MultipartPart, MultipartUpload } from '../../../prisma/generated/client';
import { holdBucket } from './bucket-lock';
import { accepted } from './objects';
import type { StorageEvidence } from './objects';

export type { MultipartPart, MultipartUpload };

/** The upload is not open (completed, aborted or never existed for this key). */
export class UploadNotOpenError extends Error {
  constructor(readonly uploadId: string) {
    super(`upload ${uploadId} is not open`);
  }
}

export type NewUpload = Omit<MultipartUpload, 'uploadId' | 'state' | 'createdAt' | 'finishedAt'>;

/** Opens an upload in a bucket that still exists (held while the row is written). */
export async function createUpload(db: Database, data: NewUpload): Promise<MultipartUpload> {
  return db.prisma.$transaction(async (tx) => {
    await holdBucket(tx, data.bucket, data.tenantId);
    return tx.multipartUpload.create({ data: { ...data, uploadId: randomUUID() } });
  });
}

export async function findUpload(db: Database, uploadId: string, bucket: string, key: string): Promise<MultipartUpload | null> {
  const upload = await db.prisma.multipartUpload.findUnique({ where: { uploadId } });
  return upload && upload.bucket === bucket && upload.key === key ? upload : null;
}

/** Locks the upload row and checks it is still open, inside `tx`. */
export async function lockOpenUpload(tx: LedgerTransaction, uploadId: string): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ state: string }>>`
    SELECT state FROM data_multipart_uploads WHERE upload_id = ${uploadId} FOR UPDATE`;
  if (rows[0]?.state !== 'open') throw new UploadNotOpenError(uploadId);
}

/** Records (or replaces) a part whose blob is stored; refuses when the upload closed meanwhile. */
export async function recordPart(
  db: Database,
  part: { uploadId: string; partNumber: number; sha256: string; md5: string; size: number },
): Promise<MultipartPart> {
  return db.prisma.$transaction(async (tx) => {
    await lockOpenUpload(tx, part.uploadId);
    return tx.multipartPart.upsert({
      where: { uploadId_partNumber: { uploadId: part.uploadId, partNumber: part.partNumber } },
      create: { ...part, size: BigInt(part.size) },
      update: { sha256: part.sha256, md5: part.md5, size: BigInt(part.size), createdAt: new Date() },
    });
  });
}

export async function listParts(db: Database, uploadId: string): Promise<MultipartPart[]> {
  return db.prisma.multipartPart.findMany({ where: { uploadId }, orderBy: { partNumber: 'asc' } });
}

/** Closes an open upload inside `tx` (its parts go; their blobs are left to the orphan sweep). */
export async function closeUpload(tx: LedgerTransaction, uploadId: string, state: 'completed' | 'aborted'): Promise<void> {
  await lockOpenUpload(tx, uploadId);
  await tx.multipartPart.deleteMany({ where: { uploadId } });
  await tx.multipartUpload.update({ where: { uploadId }, data: { state, finishedAt: new Date() } });
}

/** Aborts an open upload with `object.multipart.abort` evidence. */
export async function abortUpload(db: Database, upload: MultipartUpload, evidence: StorageEvidence): Promise<EvidenceEvent> {
  return evidenceTransaction(db, upload.tenantId, async (tx) => {
    const parts = await tx.multipartPart.count({ where: { uploadId: upload.uploadId } });
    await closeUpload(tx, upload.uploadId, 'aborted');
    return appendEvidence(tx, {
      ...accepted(evidence),
      tenantId: upload.tenantId,
      eventType: 'object.multipart.abort',
      details: { action: 'object.multipart.abort', bucket: upload.bucket, object_key: upload.key, upload_id: upload.uploadId, parts },
    });
  });
}
