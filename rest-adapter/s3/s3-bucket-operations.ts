import type { ApolloServer } from '@apollo/server';
import type { Request, Response } from 'express';
import { XMLParser } from 'fast-xml-parser';
import type { S3Locals } from '../../gateway/s3-authenticate';
import type { GatewayContext } from '../../gateway/gateway-context';
import { GOVERNANCE_HEADERS } from '../../lib/domain/governance-headers';
import { EcsError, ErrorCode } from '../../lib/errors';
import { executeOperation } from '../execute-operation';
import type { PlaneStreamOptions } from '../plane-stream';
import { EVIDENCE_POINTER_HEADER, fromEcsCode, sendS3Error } from './s3-error-document';
import { gatewayContextOf } from './s3-lock-operations';
import { dataPlaneRequest, planeError } from './s3-plane-request';
import { xmlDocument } from './s3-xml';

/** A CreateBucketConfiguration is a few hundred bytes; anything past this is refused. */
const MAX_CONFIGURATION_BYTES = 64 * 1024;

function tenantOf(res: Response): string {
  const { caller } = res.locals as S3Locals;
  if (!caller.tenantId) throw new EcsError(ErrorCode.Forbidden, 'S3 credentials belong to a tenant');
  return caller.tenantId;
}

/** ListBuckets: the caller's tenant's buckets. */
export async function listBuckets(apollo: ApolloServer<GatewayContext>, _req: Request, res: Response): Promise<void> {
  const tenantId = tenantOf(res);
  const data = await executeOperation<{ tenant: { id: string; buckets: Array<{ name: string; createdAt: string }> } | null }>(
    apollo,
    gatewayContextOf(res),
    'query S3ListBuckets($id: ID!) { tenant(id: $id) { id buckets { name createdAt } } }',
    { id: tenantId },
  );
  const buckets = [...(data.tenant?.buckets ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1));
  res.status(200).type('application/xml');
  res.send(
    xmlDocument('ListAllMyBucketsResult', {
      Owner: { ID: tenantId, DisplayName: tenantId },
      Buckets: { Bucket: buckets.map((bucket) => ({ Name: bucket.name, CreationDate: bucket.createdAt })) },
    }),
  );
}

/**
 * GetBucketLocation: the region the request was signed for (every bucket of this endpoint is in
 * its one region), empty for `us-east-1` as S3 answers it; `NoSuchBucket` when the bucket is not
 * visible. The bucket's jurisdiction is its governance, not a region: GetBucket over GraphQL or
 * `/v1/storage/{bucket}` answers it.
 */
export async function getBucketLocation(apollo: ApolloServer<GatewayContext>, bucket: string, res: Response): Promise<void> {
  const data = await executeOperation<{ bucket: { name: string } | null }>(
    apollo,
    gatewayContextOf(res),
    'query S3BucketLocation($name: ID!) { bucket(name: $name) { name } }',
    { name: bucket },
  );
  if (!data.bucket) throw new EcsError(ErrorCode.NotFound, 'The specified bucket does not exist');
  const region = (res.locals as S3Locals).s3.seed.scope.split('/')[1] ?? '';
  res.status(200).type('application/xml');
  res.send(xmlDocument('LocationConstraint', { '#text': region === 'us-east-1' ? '' : region }));
}

/** HeadBucket: 200 when the bucket exists and the caller may see it, 404 otherwise. */
export async function headBucket(apollo: ApolloServer<GatewayContext>, bucket: string, res: Response): Promise<void> {
  const data = await executeOperation<{ bucket: { name: string } | null }>(
    apollo,
    gatewayContextOf(res),
    'query S3HeadBucket($name: ID!) { bucket(name: $name) { name } }',
    { name: bucket },
  );
  if (!data.bucket) throw new EcsError(ErrorCode.NotFound, 'The specified bucket does not exist');
  res.status(200).end();
}

async function readConfiguration(req: Request): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_CONFIGURATION_BYTES) throw new EcsError(ErrorCode.PayloadTooLarge, 'CreateBucketConfiguration is too large');
  }
  return text;
}

/**
 * The tenant's own jurisdiction, for a bucket created without one (`aws s3 mb` can send neither
 * a header nor, signing for the endpoint's region, a LocationConstraint): a bucket never lies
 * outside its tenant's jurisdiction, so this is the widest placement the tenant allows.
 */
async function tenantJurisdiction(apollo: ApolloServer<GatewayContext>, res: Response, tenantId: string): Promise<string> {
  const data = await executeOperation<{ tenant: { jurisdiction: string } | null }>(
    apollo,
    gatewayContextOf(res),
    'query S3TenantJurisdiction($id: ID!) { tenant(id: $id) { jurisdiction } }',
    { id: tenantId },
  );
  if (!data.tenant) {
    throw new EcsError(ErrorCode.MissingJurisdiction, 'a bucket needs a jurisdiction: x-eosc-jurisdiction or the LocationConstraint');
  }
  return data.tenant.jurisdiction;
}

/**
 * CreateBucket in the caller's tenant. The bucket's jurisdiction is `x-eosc-jurisdiction`, or
 * the `LocationConstraint` of the configuration when it names one (`DE`, `EU`, ...), or else
 * the tenant's own jurisdiction.
 * `x-amz-bucket-object-lock-enabled: true` creates a versioned bucket, as S3 does.
 */
export async function createBucket(apollo: ApolloServer<GatewayContext>, bucket: string, req: Request, res: Response): Promise<void> {
  const tenantId = tenantOf(res);
  const configuration = await readConfiguration(req);
  const parsed =
    configuration.trim() === '' ? {} : (new XMLParser({ processEntities: false }).parse(configuration) as Record<string, unknown>);
  const location = (parsed.CreateBucketConfiguration as { LocationConstraint?: unknown } | undefined)?.LocationConstraint;
  const header = req.headers[GOVERNANCE_HEADERS.jurisdiction];
  const declared = typeof header === 'string' ? header : typeof location === 'string' ? location : undefined;
  const jurisdiction = declared ?? (await tenantJurisdiction(apollo, res, tenantId));
  const classification = req.headers[GOVERNANCE_HEADERS.classification];
  const versioned = String(req.headers['x-amz-bucket-object-lock-enabled'] ?? '').toLowerCase() === 'true';
  await executeOperation(
    apollo,
    gatewayContextOf(res),
    'mutation S3CreateBucket($input: CreateBucketInput!) { createBucket(input: $input) { name } }',
    {
      input: {
        name: bucket,
        tenantId,
        jurisdiction,
        ...(typeof classification === 'string' ? { defaultClassification: classification } : {}),
        ...(versioned ? { versioning: true } : {}),
      },
    },
  );
  res.setHeader('location', `/${bucket}`);
  res.status(200).end();
}

const NOT_EMPTY = 'The bucket you tried to delete is not empty';

/**
 * DeleteBucket: the data plane deletes the bucket when it is empty (no object version, no
 * delete marker, no open multipart upload), with `storage.bucket.delete` evidence whose pointer
 * comes back in `x-eosc-evidence-pointer`; 204. Its refusal of a bucket that is not empty
 * (409) is S3's `BucketNotEmpty`, with the refusal's evidence pointer.
 */
export async function deleteBucket(options: PlaneStreamOptions, bucket: string, res: Response): Promise<void> {
  const answer = await dataPlaneRequest(options, res, {
    path: `/data/storage/${encodeURIComponent(bucket)}`,
    method: 'DELETE',
    headers: {},
  });
  if (answer.statusCode >= 300) {
    const error = await planeError(answer);
    const refusal =
      answer.statusCode === 409 && error.code === ErrorCode.Conflict
        ? { code: 'BucketNotEmpty', status: 409, message: error.message || NOT_EMPTY, evidencePointer: error.evidencePointer }
        : fromEcsCode(error.code, error.message, 'bucket', error.evidencePointer);
    return sendS3Error(res, refusal, `/${bucket}`);
  }
  await answer.body.dump();
  const pointer = answer.headers[EVIDENCE_POINTER_HEADER];
  if (typeof pointer === 'string') res.setHeader(EVIDENCE_POINTER_HEADER, pointer);
  res.status(204).end();
}
