import DataLoader from 'dataloader';
import { pageSize } from '../../../lib/graphql/page-size';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findWorkloadsOfTenants } from '../data/workloads';
import type { Workload } from '../data/workloads';
import type { TenantResolverMap } from '../generated/resolvers-types';

/** Batches `Tenant.workloads` of every tenant in a response into one query per page size. */
function workloadsLoader(context: PlaneContext, first: number): DataLoader<string, Workload[]> {
  return loaderFor(
    context,
    `execution.tenantWorkloads.${first}`,
    () => new DataLoader((tenantIds: readonly string[]) => findWorkloadsOfTenants({ db: context.db, tenantIds, first })),
  );
}

export const TenantResolvers: TenantResolverMap = {
  __resolveReference: (reference) => reference,
  workloads: (tenant, args, context) =>
    canSee(context, 'workload.read', tenant.id) ? workloadsLoader(context, pageSize(args.first)).load(tenant.id) : [],
};
