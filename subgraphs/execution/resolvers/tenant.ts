import DataLoader from 'dataloader';
import { pageSize } from '../../../lib/graphql/page-size';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findWorkloadsOfTenants } from '../data/workloads';
import type { Workload } from '../data/workloads';

/** Batches `Tenant.workloads` of every tenant in a response into one query per page size. */
function workloadsLoader(context: PlaneContext, first: number): DataLoader<string, Workload[]> {
  return loaderFor(
    context,
    `execution.tenantWorkloads.${first}`,
    () => new DataLoader((tenantIds: readonly string[]) => findWorkloadsOfTenants({ db: context.db, tenantIds, first })),
  );
}

export const TenantResolvers = {
  __resolveReference: (reference: { id: string }) => reference,
  workloads: (tenant: { id: string }, args: { first?: number | null }, context: PlaneContext) =>
    canSee(context, 'workload.read', tenant.id) ? workloadsLoader(context, pageSize(args.first)).load(tenant.id) : [],
};
