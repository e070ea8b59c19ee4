import type { Request, Response } from 'express';
import { S3Error } from '../../lib/s3/s3-error';
import { fromEcsCode, sendS3Error } from './s3-error-document';
import { maxKeysOf, queryValue } from './s3-list-objects';
import type { S3LockOptions } from './s3-lock-operations';
import { dataPlaneRequest, planeError } from './s3-plane-request';
import { xmlDocument } from './s3-xml';

/** Query parameters ListObjectVersions takes (`delimiter` is not offered). */
export const LIST_VERSIONS_PARAMETERS = new Set(['versions', 'prefix', 'max-keys', 'key-marker', 'version-id-marker', 'encoding-type']);

interface PlaneVersion {
  key: string;
  version_id: string;
  size: number;
  etag: string | null;
  /** S3's ETag (MD5 or its multipart form); absent on versions stored before it was recorded. */
  s3_etag?: string | null;
  last_modified: string;
  delete_marker: boolean;
  is_current: boolean;
}

interface PlaneVersionPage {
  versions: PlaneVersion[];
  next_key_marker: string | null;
  next_version_id_marker: string | null;
}

/**
 * ListObjectVersions (`prefix`, `max-keys`, `key-marker`, `version-id-marker`): every version of
 * the bucket's keys in key order, newest first within a key, delete markers included (keys
 * whose newest version is a delete marker too), from the data plane's bucket-wide version
 * listing; `NextKeyMarker` / `NextVersionIdMarker` continue a truncated page.
 */
export async function listObjectVersions(options: S3LockOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const prefix = queryValue(req, 'prefix') ?? '';
  const keyMarker = queryValue(req, 'key-marker') ?? '';
  const versionIdMarker = queryValue(req, 'version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') {
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.');
  }
  const maxKeys = maxKeysOf(req);
  const query = new URLSearchParams({ versions: '', prefix, limit: String(maxKeys) });
  if (keyMarker !== '') query.set('key_marker', keyMarker);
  // S3's `null` version id names the unversioned version; this data plane gives every version an id.
  if (versionIdMarker !== '' && versionIdMarker !== 'null') query.set('version_id_marker', versionIdMarker);
  const answer = await dataPlaneRequest(options, res, {
    path: `/data/storage/${encodeURIComponent(bucket)}/objects?${query}`,
    method: 'GET',
    headers: {},
  });
  if (answer.statusCode >= 300) {
    const error = await planeError(answer);
    // The markers are the only part of this request the caller chooses that the plane can refuse.
    if (error.code === 'ECS_BAD_REQUEST') throw new S3Error('InvalidArgument', `Invalid version id marker: ${error.message}`);
    sendS3Error(res, fromEcsCode(error.code, error.message, 'bucket', error.evidencePointer), `/${bucket}`);
    return;
  }
  const page = (await answer.body.json()) as PlaneVersionPage;
  const owner = { ID: bucket, DisplayName: bucket };
  const truncated = page.next_key_marker !== null;
  res.status(200).type('application/xml');
  res.send(
    xmlDocument('ListVersionsResult', {
      Name: bucket,
      Prefix: prefix,
      KeyMarker: keyMarker,
      VersionIdMarker: versionIdMarker,
      ...(truncated ? { NextKeyMarker: page.next_key_marker, NextVersionIdMarker: page.next_version_id_marker } : {}),
      MaxKeys: maxKeys,
      IsTruncated: truncated,
      Version: page.versions
        .filter((version) => !version.delete_marker)
        .map((version) => ({
          Key: version.key,
          VersionId: version.version_id,
          IsLatest: version.is_current,
          LastModified: version.last_modified,
          ETag: `"${version.s3_etag ?? version.etag ?? ''}"`,
          Size: version.size,
          StorageClass: 'STANDARD',
          Owner: owner,
        })),
      DeleteMarker: page.versions
        .filter((version) => version.delete_marker)
        .map((version) => ({
          Key: version.key,
          VersionId: version.version_id,
          IsLatest: version.is_current,
          LastModified: version.last_modified,
          Owner: owner,
        })),
    }),
  );
}
