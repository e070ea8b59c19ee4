import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findBucketsOfTenants } from '../records/buckets';
import type { Bucket } from '../records/buckets';

function bucketsLoader(context: PlaneContext): DataLoader<string, Bucket[]> {
  return loaderFor(
    context,
    'data.tenantBuckets',
    () => new DataLoader((tenantIds: readonly string[]) => findBucketsOfTenants({ db: context.db, tenantIds })),
  );
}

export const TenantResolvers = {
  __resolveReference: (reference: { id: string }) => reference,
  buckets: (tenant: { id: string }, _: unknown, context: PlaneContext) =>
    canSee(context, 'storage.read', tenant.id) ? bucketsLoader(context).load(tenant.id) : [],
};
