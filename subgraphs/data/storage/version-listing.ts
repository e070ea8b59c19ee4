import type { Request, Response } from 'express';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { Bucket } from '../records/buckets';
import { UnknownVersionMarker, listBucketVersions } from '../records/version-listing';
import { versionBody } from './object-read';
import { queryText, versionIdOf } from './request-input';

/**
 * `GET /{bucket}/objects?versions&prefix=&key_marker=&version_id_marker=&limit=`: every version
 * of the bucket's keys, in key order and newest first within a key, delete markers included,
 * resuming after the markers (S3's ListObjectVersions). The markers are a key and a version id
 * of the caller's own bucket, given as they are (no cursor to seal: they reveal nothing).
 */
export async function listBucketVersionsRoute(context: PlaneContext, req: Request, res: Response, bucket: Bucket): Promise<void> {
  await authorize(context, 'storage.read', bucket.tenantId);
  const prefix = queryText(req, 'prefix') ?? '';
  const keyMarker = queryText(req, 'key_marker');
  const versionIdMarker = versionIdOf(req, 'version_id_marker');
  if (versionIdMarker !== undefined && !keyMarker) {
    throw new EcsError(ErrorCode.BadRequest, 'version_id_marker needs the key_marker it is a version of', { field: 'version_id_marker' });
  }
  const limitText = queryText(req, 'limit');
  const first = pageSize(limitText === undefined ? undefined : /^\d+$/.test(limitText) ? Number(limitText) : -1, 'limit');
  const marker = keyMarker ? { key: keyMarker, ...(versionIdMarker !== undefined ? { versionId: versionIdMarker } : {}) } : undefined;
  let page: Awaited<ReturnType<typeof listBucketVersions>>;
  try {
    page = await listBucketVersions(context.db, { bucket: bucket.name, prefix, marker, first });
  } catch (error) {
    if (error instanceof UnknownVersionMarker) {
      throw new EcsError(ErrorCode.BadRequest, `version_id_marker ${error.message} is not a version of ${keyMarker}`, {
        field: 'version_id_marker',
      });
    }
    throw error;
  }
  const last = page.items[page.items.length - 1];
  res.json({
    bucket: bucket.name,
    prefix,
    versions: page.items.map((version) => ({
      ...versionBody(version),
      delete_marker: version.deleteMarker,
      is_current: version.isCurrent,
      origin: version.origin,
    })),
    next_key_marker: page.hasMore && last ? last.key : null,
    next_version_id_marker: page.hasMore && last ? last.versionId : null,
  });
}
