import type { Request, Response } from 'express';
import { S3Error } from '../../lib/s3/s3-error';
import { commonPrefixOf, maxKeysOf, queryValue } from './s3-list-objects';
import type { S3LockOptions } from './s3-lock-operations';
import { planeBucketListing } from './s3-plane-request';
import { xmlDocument } from './s3-xml';

/** Query parameters ListObjectVersions takes. */
export const LIST_VERSIONS_PARAMETERS = new Set([
  'versions',
  'prefix',
  'delimiter',
  'max-keys',
  'key-marker',
  'version-id-marker',
  'encoding-type',
]);

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

/** Pages of the data plane read for one listing at most (a common prefix can absorb many). */
const MAX_PAGES_PER_LISTING = 10;

interface VersionListing {
  versions: PlaneVersion[];
  prefixes: string[];
  /** Where the next page starts (the last version read), when truncated. */
  next: { key: string; versionId: string } | undefined;
}

/**
 * Up to `maxKeys` versions and common prefixes, read page by page from the data plane's
 * bucket-wide version listing after the markers; undefined when the plane refused (sent).
 */
async function collectVersions(
  options: S3LockOptions,
  res: Response,
  bucket: string,
  from: { prefix: string; delimiter: string | undefined; maxKeys: number; keyMarker: string; versionIdMarker: string },
): Promise<VersionListing | undefined> {
  const { prefix, delimiter, maxKeys } = from;
  let { keyMarker, versionIdMarker } = from;
  let lastPrefix = commonPrefixOf(keyMarker, prefix, delimiter);
  const versions: PlaneVersion[] = [];
  const prefixes: string[] = [];
  let next: VersionListing['next'];
  for (let page = 0; page < MAX_PAGES_PER_LISTING && versions.length + prefixes.length < maxKeys; page += 1) {
    const query = new URLSearchParams({ versions: '', prefix, limit: String(maxKeys - versions.length - prefixes.length) });
    if (keyMarker !== '') query.set('key_marker', keyMarker);
    // S3's `null` version id names the unversioned version; this data plane gives every version an id.
    if (versionIdMarker !== '' && versionIdMarker !== 'null') query.set('version_id_marker', versionIdMarker);
    const body = await planeBucketListing<PlaneVersionPage>(options, res, bucket, String(query), (error) => {
      // The markers are the only part of this request the caller chooses that the plane can refuse.
      if (error.code === 'ECS_BAD_REQUEST') throw new S3Error('InvalidArgument', `Invalid version id marker: ${error.message}`);
    });
    if (!body) return undefined;
    for (const version of body.versions) {
      const common = commonPrefixOf(version.key, prefix, delimiter);
      if (common === undefined) versions.push(version);
      else if (common !== lastPrefix) prefixes.push(common);
      if (common !== undefined) lastPrefix = common;
    }
    if (body.next_key_marker === null || body.next_version_id_marker === null) return { versions, prefixes, next: undefined };
    keyMarker = body.next_key_marker;
    versionIdMarker = body.next_version_id_marker;
    next = { key: keyMarker, versionId: versionIdMarker };
  }
  return { versions, prefixes, next };
}

/**
 * ListObjectVersions (`prefix`, `delimiter`, `max-keys`, `key-marker`, `version-id-marker`):
 * every version of the bucket's keys in key order, newest first within a key, delete markers
 * included (keys whose newest version is a delete marker too), from the data plane's
 * bucket-wide version listing. With a delimiter, keys below the prefix that contain it are
 * grouped into common prefixes, each returned once. `NextKeyMarker` / `NextVersionIdMarker`
 * (the last version read) continue a truncated page.
 */
export async function listObjectVersions(options: S3LockOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const prefix = queryValue(req, 'prefix') ?? '';
  const delimiter = queryValue(req, 'delimiter') || undefined;
  const keyMarker = queryValue(req, 'key-marker') ?? '';
  const versionIdMarker = queryValue(req, 'version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') {
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.');
  }
  const maxKeys = maxKeysOf(req);
  const listing = await collectVersions(options, res, bucket, { prefix, delimiter, maxKeys, keyMarker, versionIdMarker });
  if (!listing) return;
  const owner = { ID: bucket, DisplayName: bucket };
  const truncated = listing.next !== undefined;
  res.status(200).type('application/xml');
  res.send(
    xmlDocument('ListVersionsResult', {
      Name: bucket,
      Prefix: prefix,
      KeyMarker: keyMarker,
      VersionIdMarker: versionIdMarker,
      ...(listing.next ? { NextKeyMarker: listing.next.key, NextVersionIdMarker: listing.next.versionId } : {}),
      ...(delimiter !== undefined ? { Delimiter: delimiter } : {}),
      MaxKeys: maxKeys,
      IsTruncated: truncated,
      Version: listing.versions
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
      DeleteMarker: listing.versions
        .filter((version) => version.delete_marker)
        .map((version) => ({
          Key: version.key,
          VersionId: version.version_id,
          IsLatest: version.is_current,
          LastModified: version.last_modified,
          Owner: owner,
        })),
      CommonPrefixes: listing.prefixes.map((common) => ({ Prefix: common })),
    }),
  );
}
