import DataLoader from 'dataloader';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getTenantsByIds } from '../data/tenants';
import type { Tenant } from '../data/tenants';

export function tenantLoader(context: PlaneContext): DataLoader<string, Tenant | null> {
  return loaderFor(context, 'control.tenant', () => new DataLoader((ids: readonly string[]) => getTenantsByIds({ db: context.db, ids })));
}

export const TenantResolvers = {
  __resolveReference: (reference: { id: string }, context: PlaneContext) =>
    tenantLoader(context).load(reference.id),
};
