import DataLoader from 'dataloader';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getBucketsByNames } from '../data/buckets';
import type { Bucket } from '../data/buckets';

export function bucketLoader(context: PlaneContext): DataLoader<string, Bucket | null> {
  return loaderFor(
    context,
    'data.bucket',
    () => new DataLoader((names: readonly string[]) => getBucketsByNames({ db: context.db, names })),
  );
}

export const BucketResolvers = {
  __resolveReference: (reference: { name: string }, context: PlaneContext) =>
    bucketLoader(context).load(reference.name),
  tenant: (bucket: Bucket) => ({ __typename: 'Tenant', id: bucket.tenantId }),
};
