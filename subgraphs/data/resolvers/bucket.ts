import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import { getBucketsByNames } from '../records/buckets';
import type { StorageObjectVersion } from '../records/objects';
import { listPage } from '../storage/object-read';
import type { Bucket } from '../records/buckets';

export function bucketLoader(context: PlaneContext): DataLoader<string, Bucket | null> {
  return loaderFor(
    context,
    'data.bucket',
    () => new DataLoader((names: readonly string[]) => getBucketsByNames({ db: context.db, names })),
  );
}

export const BucketResolvers = {
  /** Another tenant's bucket resolves to nothing (no BOLA through federation). */
  __resolveReference: async (reference: { name: string }, context: PlaneContext) => {
    const bucket = await bucketLoader(context).load(reference.name);
    return bucket && canSee(context, 'storage.read', bucket.tenantId) ? bucket : null;
  },
  tenant: (bucket: Bucket) => ({ __typename: 'Tenant', id: bucket.tenantId }),
  objects: async (
    bucket: Bucket,
    args: { prefix?: string | null; first?: number | null; after?: string | null },
    context: PlaneContext,
  ) => {
    await authorize(context, 'storage.read', bucket.tenantId);
    return listPage(context, bucket.name, args.prefix ?? '', args.after, pageSize(args.first));
  },
};

export const StorageObjectResolvers = {
  size: (version: StorageObjectVersion) => Number(version.size),
};
