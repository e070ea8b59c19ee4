import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { workloadLoader } from './workload';

export const QueryResolvers = {
  workload: async (_: unknown, args: { id: string }, context: PlaneContext) => {
    const workload = await workloadLoader(context).load(args.id);
    if (workload) await authorize(context, 'workload.read', workload.tenantId);
    return workload;
  },
};
