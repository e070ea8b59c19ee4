import DataLoader from 'dataloader';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getWorkloadsByIds } from '../data/workloads';
import type { Workload } from '../data/workloads';

export function workloadLoader(context: PlaneContext): DataLoader<string, Workload | null> {
  return loaderFor(
    context,
    'execution.workload',
    () => new DataLoader((ids: readonly string[]) => getWorkloadsByIds({ db: context.db, ids })),
  );
}

export const WorkloadResolvers = {
  __resolveReference: (reference: { id: string }, context: PlaneContext) =>
    workloadLoader(context).load(reference.id),
  /** A reference the gateway completes from the control plane. */
  tenant: (workload: Workload) => ({ __typename: 'Tenant', id: workload.tenantId }),
};
