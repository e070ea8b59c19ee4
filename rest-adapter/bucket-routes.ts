import { z } from 'zod';
import { EcsError, ErrorCode } from '../lib/errors';
import { defineRoute } from './route-table';
import type { RouteDef } from './route-table';
import { CLASSIFICATIONS } from '../lib/domain/classification';

const BUCKET_FIELDS = 'name tenantId jurisdiction defaultClassification versioning lockMode defaultRetention createdAt';

interface BucketNode {
  name: string;
  tenantId: string;
  jurisdiction: string;
  defaultClassification: string;
  versioning: boolean;
  lockMode: string;
  defaultRetention: string | null;
  createdAt: string;
}

function bucketBody(bucket: BucketNode): Record<string, unknown> {
  return {
    name: bucket.name,
    tenant_id: bucket.tenantId,
    jurisdiction: bucket.jurisdiction,
    default_classification: bucket.defaultClassification,
    versioning: bucket.versioning,
    lock_mode: bucket.lockMode,
    default_retention: bucket.defaultRetention,
    created_at: bucket.createdAt,
  };
}

const createBody = z.strictObject({
  tenant_id: z.string().optional(),
  jurisdiction: z.string(),
  default_classification: z.enum(CLASSIFICATIONS).optional(),
  versioning: z.boolean().optional(),
  lock_mode: z.enum(['compliance', 'governance']).optional(),
  default_retention: z.string().max(64).optional(),
});

/** Buckets: `PUT /v1/storage/{bucket}` creates one, `GET` reads it, `DELETE` deletes an empty one (objects have their own streaming router). */
export const bucketRoutes: RouteDef[] = [
  defineRoute({
    method: 'put',
    path: '/storage/:bucket',
    operationId: 'createBucket',
    summary: 'Create a bucket (tenant defaults to the caller’s)',
    tag: 'storage',
    body: createBody,
    status: 201,
    description: 'Created',
    response: 'Bucket',
    errors: [400, 404, 409],
    handler: async ({ body, params, caller, execute }) => {
      const tenantId = body.tenant_id ?? caller.tenantId;
      if (!tenantId)
        throw new EcsError(ErrorCode.ValidationFailed, 'tenant_id is required for callers without a tenant', { field: 'tenant_id' });
      const data = await execute<{ createBucket: BucketNode }>(
        `mutation CreateBucket($input: CreateBucketInput!) { createBucket(input: $input) { ${BUCKET_FIELDS} } }`,
        {
          input: {
            name: params.bucket,
            tenantId,
            jurisdiction: body.jurisdiction,
            defaultClassification: body.default_classification,
            versioning: body.versioning,
            lockMode: body.lock_mode,
            defaultRetention: body.default_retention,
          },
        },
      );
      return bucketBody(data.createBucket);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/storage/:bucket',
    operationId: 'getBucket',
    summary: 'Read a bucket',
    tag: 'storage',
    status: 200,
    description: 'OK',
    response: 'Bucket',
    errors: [404],
    handler: async ({ params, execute }) => {
      const data = await execute<{ bucket: BucketNode | null }>(
        `query GetBucket($name: ID!) { bucket(name: $name) { ${BUCKET_FIELDS} } }`,
        {
          name: params.bucket,
        },
      );
      if (!data.bucket) throw new EcsError(ErrorCode.NotFound, `bucket ${String(params.bucket)} not found`);
      return bucketBody(data.bucket);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/storage/:bucket',
    operationId: 'deleteBucket',
    summary: 'Delete an empty bucket',
    tag: 'storage',
    status: 204,
    description:
      'Deleted (storage.bucket.delete evidenced); a bucket holding a version, a delete marker or an open upload is refused with 409',
    errors: [404, 409],
    handler: async ({ params, execute }) => {
      await execute('mutation DeleteBucket($name: ID!) { deleteBucket(name: $name) { name } }', { name: params.bucket });
    },
  }),
];
