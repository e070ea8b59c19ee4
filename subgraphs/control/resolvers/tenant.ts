import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getTenantsByIds } from '../data/tenants';
import type { Tenant } from '../data/tenants';
import type { TenantResolverMap } from '../generated/resolvers-types';

export function tenantLoader(context: PlaneContext): DataLoader<string, Tenant | null> {
  return loaderFor(context, 'control.tenant', () => new DataLoader((ids: readonly string[]) => getTenantsByIds({ db: context.db, ids })));
}

export const TenantResolvers: TenantResolverMap = {
  /** Another tenant's entity resolves to nothing (no BOLA through federation). */
  __resolveReference: (reference, context) =>
    canSee(context, 'tenant.read', reference.id) ? tenantLoader(context).load(reference.id) : null,
};
