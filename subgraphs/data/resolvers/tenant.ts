import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findBucketsOfTenants } from '../records/buckets';
import type { Bucket } from '../records/buckets';
import type { TenantResolverMap } from '../generated/resolvers-types';

function bucketsLoader(context: PlaneContext): DataLoader<string, Bucket[]> {
  return loaderFor(
    context,
    'data.tenantBuckets',
    () => new DataLoader((tenantIds: readonly string[]) => findBucketsOfTenants({ db: context.db, tenantIds })),
  );
}

export const TenantResolvers: TenantResolverMap = {
  __resolveReference: (reference) => reference,
  buckets: (tenant, _, context) => (canSee(context, 'storage.read', tenant.id) ? bucketsLoader(context).load(tenant.id) : []),
};
