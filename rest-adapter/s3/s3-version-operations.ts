import type { Request, Response } from 'express';
import { S3Error } from '../../lib/s3/s3-error';
import { type S3LockOptions, bucketSettings, getObjectLockConfiguration, readXmlBody } from './s3-lock-operations';
import { LIST_VERSIONS_PARAMETERS, listObjectVersions } from './s3-list-object-versions';
import { xmlDocument } from './s3-xml';

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
  if (method === 'GET' && parameters.includes('versions') && parameters.every((name) => LIST_VERSIONS_PARAMETERS.has(name))) {
    return listObjectVersions;
  }
  return undefined;
}
