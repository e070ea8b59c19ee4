import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getWorkloadsByIds } from '../data/workloads';
import type { Workload } from '../data/workloads';
import type { WorkloadResolverMap } from '../generated/resolvers-types';

export function workloadLoader(context: PlaneContext): DataLoader<string, Workload | null> {
  return loaderFor(
    context,
    'execution.workload',
    () => new DataLoader((ids: readonly string[]) => getWorkloadsByIds({ db: context.db, ids })),
  );
}

export const WorkloadResolvers: WorkloadResolverMap = {
  /** Another tenant's workload resolves to nothing (no BOLA through federation). */
  __resolveReference: async (reference, context) => {
    const workload = await workloadLoader(context).load(reference.id);
    return workload && canSee(context, 'workload.read', workload.tenantId) ? workload : null;
  },
  /** A reference the gateway completes from the control plane. */
  tenant: (workload) => ({ __typename: 'Tenant', id: workload.tenantId }),
};
