import type { Request, Response } from 'express';
import { EcsError, ErrorCode } from '../../lib/errors';
import { S3Error } from '../../lib/s3/s3-error';
import { executeOperation } from '../execute-operation';
import { type S3LockOptions, bucketSettings, gatewayContextOf, getObjectLockConfiguration, readXmlBody } from './s3-lock-operations';
import { LIST_VERSIONS_PARAMETERS, listObjectVersions } from './s3-list-object-versions';
import { sendS3Error } from './s3-error-document';
import { xmlDocument } from './s3-xml';

/** GetBucketVersioning: `Enabled` for a versioned bucket; an unversioned one answers S3's empty configuration. */
export async function getBucketVersioning(options: S3LockOptions, bucket: string, res: Response): Promise<void> {
  const settings = await bucketSettings(options.apollo, bucket, res);
  res.status(200).type('application/xml');
  res.send(xmlDocument('VersioningConfiguration', settings.versioning ? { Status: 'Enabled' } : {}));
}

/**
 * PutBucketVersioning: `Enabled` turns versioning on (the data plane's `enableBucketVersioning`,
 * `storage.govern`, with `storage.bucket.versioning` evidence) or keeps it on; `Suspended` keeps
 * an unversioned bucket as it is, and for a versioned one is refused as S3 refuses it on a bucket
 * with object lock (`InvalidBucketState`, 409), with the data plane's refusal evidence (every
 * bucket locks its objects, and a lock needs every version kept). MFA delete is not offered.
 */
export async function putBucketVersioning(options: S3LockOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const document = await readXmlBody(req, res);
  const configuration = document.VersioningConfiguration;
  const fields = configuration && typeof configuration === 'object' ? (configuration as Record<string, unknown>) : {};
  const status = fields.Status;
  if (status !== 'Enabled' && status !== 'Suspended') {
    throw new S3Error('InvalidArgument', 'VersioningConfiguration Status must be Enabled or Suspended.');
  }
  if (fields.MfaDelete === 'Enabled') throw new S3Error('NotImplemented', 'MFA delete is not offered.');
  const settings = await bucketSettings(options.apollo, bucket, res);
  if (status === 'Enabled' && !settings.versioning) {
    await executeOperation(
      options.apollo,
      gatewayContextOf(res),
      'mutation S3EnableVersioning($name: ID!) { enableBucketVersioning(name: $name) { name versioning } }',
      { name: bucket },
    );
  } else if (status === 'Suspended' && settings.versioning) {
    try {
      await executeOperation(
        options.apollo,
        gatewayContextOf(res),
        'mutation S3SuspendVersioning($name: ID!) { suspendBucketVersioning(name: $name) { name versioning } }',
        { name: bucket },
      );
    } catch (error) {
      if (!(error instanceof EcsError) || error.code !== ErrorCode.Conflict) throw error;
      const message = 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.';
      sendS3Error(res, { code: 'InvalidBucketState', status: 409, message, evidencePointer: error.evidencePointer }, `/${bucket}`);
      return;
    }
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
