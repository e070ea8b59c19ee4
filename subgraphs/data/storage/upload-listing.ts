import type { Request, Response } from 'express';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { Bucket } from '../records/buckets';
import { UnknownUploadMarkerError, findOpenUploads } from '../records/open-uploads';
import type { UploadMarker } from '../records/open-uploads';
import { queryText } from './request-input';

/** S3's default and largest page of uploads. */
const MAX_UPLOADS = 1000;

function maxUploadsOf(req: Request): number {
  const text = queryText(req, 'max_uploads');
  if (text === undefined) return MAX_UPLOADS;
  return pageSize(/^\d{1,4}$/.test(text) ? Number(text) : -1, 'max_uploads');
}

function markerOf(req: Request): UploadMarker | undefined {
  const key = queryText(req, 'key_marker');
  const uploadId = queryText(req, 'upload_id_marker');
  if (key === undefined || key === '') {
    if (uploadId !== undefined)
      throw new EcsError(ErrorCode.BadRequest, 'upload_id_marker goes with key_marker: it names an upload of that key', {
        field: 'upload_id_marker',
      });
    return undefined;
  }
  if (uploadId === undefined || uploadId === '') return { key };
  if (uploadId.length > 64)
    throw new EcsError(ErrorCode.BadRequest, 'upload_id_marker must be one upload id', { field: 'upload_id_marker' });
  return { key, uploadId };
}

async function openUploadsPage(
  context: PlaneContext,
  bucket: Bucket,
  options: { prefix: string; marker: UploadMarker | undefined; first: number },
): ReturnType<typeof findOpenUploads> {
  try {
    return await findOpenUploads(context.db, { bucket: bucket.name, ...options });
  } catch (error) {
    if (!(error instanceof UnknownUploadMarkerError)) throw error;
    throw new EcsError(ErrorCode.BadRequest, `upload_id_marker names no upload of ${error.marker.key} in bucket ${bucket.name}`, {
      field: 'upload_id_marker',
    });
  }
}

/**
 * `GET /{bucket}/objects?uploads`: the bucket's open multipart uploads (`prefix`, 1..1000
 * `max_uploads`, default 1000), by key and then initiation. A page ends at `next_key_marker` /
 * `next_upload_id_marker`; the next one starts after them (`key_marker` alone starts after
 * every upload of that key).
 */
export async function listOpenUploads(context: PlaneContext, req: Request, res: Response, bucket: Bucket): Promise<void> {
  await authorize(context, 'storage.read', bucket.tenantId);
  const prefix = queryText(req, 'prefix') ?? '';
  const maxUploads = maxUploadsOf(req);
  const marker = markerOf(req);
  const page = await openUploadsPage(context, bucket, { prefix, marker, first: maxUploads });
  const last = page.items[page.items.length - 1];
  res.json({
    bucket: bucket.name,
    prefix,
    key_marker: marker?.key ?? null,
    upload_id_marker: marker?.uploadId ?? null,
    max_uploads: maxUploads,
    uploads: page.items.map((upload) => ({ key: upload.key, upload_id: upload.uploadId, initiated: upload.initiatedAt.toISOString() })),
    is_truncated: page.hasMore,
    next_key_marker: page.hasMore && last ? last.key : null,
    next_upload_id_marker: page.hasMore && last ? last.uploadId : null,
  });
}
