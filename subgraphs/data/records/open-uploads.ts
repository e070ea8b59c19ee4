import type { Database } from '../../../lib/db/database';
import type { Prisma } from '../../../prisma/generated/client';

/** An open multipart upload as a listing shows it. */
export interface OpenUpload {
  key: string;
  uploadId: string;
  initiatedAt: Date;
}

/** Where a page starts: after this key, or after this upload of it when `uploadId` is given. */
export interface UploadMarker {
  key: string;
  uploadId?: string;
}

/** The upload a marker names is not an upload of its key in the bucket. */
export class UnknownUploadMarkerError extends Error {
  constructor(readonly marker: Required<UploadMarker>) {
    super(`upload ${marker.uploadId} is not an upload of ${marker.key}`);
  }
}

/** The uploads after the marker in (key, initiation, upload id) order. */
async function afterMarker(db: Database, bucket: string, marker: UploadMarker | undefined): Promise<Prisma.MultipartUploadWhereInput> {
  if (marker === undefined) return {};
  if (marker.uploadId === undefined) return { key: { gt: marker.key } };
  // A closed upload keeps its row, so a marker stays valid when its upload completes between pages.
  const anchor = await db.prisma.multipartUpload.findUnique({
    where: { uploadId: marker.uploadId },
    select: { bucket: true, key: true, createdAt: true },
  });
  if (!anchor || anchor.bucket !== bucket || anchor.key !== marker.key) {
    throw new UnknownUploadMarkerError({ key: marker.key, uploadId: marker.uploadId });
  }
  return {
    OR: [
      { key: { gt: marker.key } },
      { key: marker.key, createdAt: { gt: anchor.createdAt } },
      { key: marker.key, createdAt: anchor.createdAt, uploadId: { gt: marker.uploadId } },
    ],
  };
}

/**
 * One page of a bucket's open multipart uploads (not completed, not aborted) under `prefix`,
 * ordered by key, then by initiation (the upload id breaks ties), after `marker`.
 */
export async function findOpenUploads(
  db: Database,
  options: { bucket: string; prefix: string; marker?: UploadMarker; first: number },
): Promise<{ items: OpenUpload[]; hasMore: boolean }> {
  const rows = await db.prisma.multipartUpload.findMany({
    where: {
      bucket: options.bucket,
      state: 'open',
      ...(options.prefix ? { key: { startsWith: options.prefix } } : {}),
      AND: [await afterMarker(db, options.bucket, options.marker)],
    },
    orderBy: [{ key: 'asc' }, { createdAt: 'asc' }, { uploadId: 'asc' }],
    take: options.first + 1,
    select: { key: true, uploadId: true, createdAt: true },
  });
  const items = rows.slice(0, options.first).map((row) => ({ key: row.key, uploadId: row.uploadId, initiatedAt: row.createdAt }));
  return { items, hasMore: rows.length > options.first };
}
