import type { Request, Response } from 'express';
import { S3Error } from '../../lib/s3/s3-error';
import { fromEcsCode, sendS3Error } from './s3-error-document';
import { type S3LockOptions, bucketSettings, getObjectLockConfiguration, readXmlBody } from './s3-lock-operations';
import { dataPlaneRequest, planeError } from './s3-plane-request';
import { xmlDocument } from './s3-xml';

/** Query parameters ListObjectVersions takes here (`key-marker` / `version-id-marker` paging is not offered). */
const LIST_VERSIONS_PARAMETERS = new Set(['versions', 'prefix', 'max-keys', 'encoding-type']);

interface PlaneVersion {
  key: string;
  version_id: string;
  size: number;
  etag: string | null;
  last_modified: string;
  delete_marker: boolean;
  is_current: boolean;
}

function queryValue(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

/** GetBucketVersioning: `Enabled` for a versioned bucket; an unversioned one answers S3's empty configuration. */
export async function getBucketVersioning(options: S3LockOptions, bucket: string, res: Response): Promise<void> {
  const settings = await bucketSettings(options.apollo, bucket, res);
  res.status(200).type('application/xml');
  res.send(xmlDocument('VersioningConfiguration', settings.versioning ? { Status: 'Enabled' } : {}));
}

/**
 * PutBucketVersioning: the data plane fixes versioning when a bucket is created, so a request
 * that keeps the bucket's state is accepted and one that would change it answers `NotImplemented`.
 */
export async function putBucketVersioning(options: S3LockOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const document = await readXmlBody(req, res);
  const configuration = document.VersioningConfiguration;
  const status = configuration && typeof configuration === 'object' ? (configuration as Record<string, unknown>).Status : undefined;
  if (status !== 'Enabled' && status !== 'Suspended') {
    throw new S3Error('InvalidArgument', 'VersioningConfiguration Status must be Enabled or Suspended.');
  }
  const settings = await bucketSettings(options.apollo, bucket, res);
  if ((status === 'Enabled') !== settings.versioning) {
    throw new S3Error(
      'NotImplemented',
      'Versioning is fixed when a bucket is created (x-amz-bucket-object-lock-enabled: true creates a versioned bucket) and cannot be changed.',
    );
  }
  res.status(200).end();
}

function maxKeysOf(req: Request): number {
  const text = queryValue(req, 'max-keys');
  if (text === undefined) return 1000;
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 1000) throw new S3Error('InvalidArgument', 'max-keys must be 1..1000');
  return Number(text);
}

async function planeJson<T>(options: S3LockOptions, res: Response, path: string, bucket: string): Promise<T | undefined> {
  const answer = await dataPlaneRequest(options, res, { path, method: 'GET', headers: {} });
  if (answer.statusCode >= 300) {
    const error = await planeError(answer);
    sendS3Error(res, fromEcsCode(error.code, error.message, 'bucket', error.evidencePointer), `/${bucket}`);
    return undefined;
  }
  return (await answer.body.json()) as T;
}

/**
 * ListObjectVersions (`prefix`, `max-keys`): the keys the data plane lists under the prefix, in
 * key order, each with its versions newest first (delete markers included). Only the first page
 * is offered: `IsTruncated` says when more versions exist, and `key-marker` /
 * `version-id-marker` answer `NotImplemented`. Keys whose newest version is a delete marker are
 * not listed, as the data plane's listing leaves them out.
 */
export async function listObjectVersions(options: S3LockOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const prefix = queryValue(req, 'prefix') ?? '';
  const maxKeys = maxKeysOf(req);
  const base = `/data/storage/${encodeURIComponent(bucket)}/objects`;
  const listing = await planeJson<{ items: Array<{ key: string }>; next_cursor: string | null }>(
    options,
    res,
    `${base}?${new URLSearchParams({ prefix, limit: String(maxKeys) })}`,
    bucket,
  );
  if (!listing) return;
  const versions: PlaneVersion[] = [];
  let truncated = listing.next_cursor !== null;
  for (const item of listing.items) {
    if (versions.length >= maxKeys) {
      truncated = true;
      break;
    }
    const path = `${base}/${item.key.split('/').map(encodeURIComponent).join('/')}?versions&limit=${maxKeys - versions.length}`;
    const page = await planeJson<{ versions: PlaneVersion[]; next_cursor: string | null }>(options, res, path, bucket);
    if (!page) return;
    versions.push(...page.versions);
    if (page.next_cursor !== null) truncated = true;
  }
  const owner = { ID: bucket, DisplayName: bucket };
  const entries = versions.filter((version) => !version.delete_marker);
  const markers = versions.filter((version) => version.delete_marker);
  res.status(200).type('application/xml');
  res.send(
    xmlDocument('ListVersionsResult', {
      Name: bucket,
      Prefix: prefix,
      KeyMarker: '',
      VersionIdMarker: '',
      MaxKeys: maxKeys,
      IsTruncated: truncated,
      Version: entries.map((version) => ({
        Key: version.key,
        VersionId: version.version_id,
        IsLatest: version.is_current,
        LastModified: version.last_modified,
        ETag: `"${version.etag ?? ''}"`,
        Size: version.size,
        StorageClass: 'STANDARD',
        Owner: owner,
      })),
      DeleteMarker: markers.map((version) => ({
        Key: version.key,
        VersionId: version.version_id,
        IsLatest: version.is_current,
        LastModified: version.last_modified,
        Owner: owner,
      })),
    }),
  );
}

type BucketHandler = (options: S3LockOptions, bucket: string, req: Request, res: Response) => Promise<void>;

/** The versioning, object lock or version listing operation a bucket request names, if any. */
export function bucketVersionOperation(method: string, parameters: readonly string[]): BucketHandler | undefined {
  if (parameters.length === 1 && parameters[0] === 'versioning') {
    if (method === 'GET') return (options, bucket, _req, res) => getBucketVersioning(options, bucket, res);
    if (method === 'PUT') return putBucketVersioning;
  }
  if (method === 'GET' && parameters.length === 1 && parameters[0] === 'object-lock') {
    return (options, bucket, _req, res) => getObjectLockConfiguration(options, bucket, res);
  }
  if (method === 'GET' && parameters.includes('versions')) {
    if (parameters.includes('key-marker') || parameters.includes('version-id-marker')) {
      return async () => {
        throw new S3Error(
          'NotImplemented',
          'ListObjectVersions offers the first page only: key-marker and version-id-marker are not implemented.',
        );
      };
    }
    if (parameters.every((name) => LIST_VERSIONS_PARAMETERS.has(name))) return listObjectVersions;
  }
  return undefined;
}
