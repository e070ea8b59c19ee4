import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import { getBucketsByNames } from '../records/buckets';
import { listPage } from '../storage/object-read';
import type { Bucket } from '../records/buckets';
import type { BucketResolverMap, StorageObjectResolverMap } from '../generated/resolvers-types';

export function bucketLoader(context: PlaneContext): DataLoader<string, Bucket | null> {
  return loaderFor(
    context,
    'data.bucket',
    () => new DataLoader((names: readonly string[]) => getBucketsByNames({ db: context.db, names })),
  );
}

export const BucketResolvers: BucketResolverMap = {
  /** Another tenant's bucket resolves to nothing (no BOLA through federation). */
  __resolveReference: async (reference, context) => {
    const bucket = await bucketLoader(context).load(reference.name);
    return bucket && canSee(context, 'storage.read', bucket.tenantId) ? bucket : null;
  },
  tenant: (bucket) => ({ __typename: 'Tenant', id: bucket.tenantId }),
  objects: async (bucket, args, context) => {
    await authorize(context, 'storage.read', bucket.tenantId);
    return listPage(context, bucket.name, args.prefix ?? '', args.after, pageSize(args.first));
  },
};

export const StorageObjectResolvers: StorageObjectResolverMap = {
  size: (version) => Number(version.size),
};
