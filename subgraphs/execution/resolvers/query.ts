import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { workloadLoader } from './workload';

export const QueryResolvers = {
  workload: (_: unknown, args: { id: string }, context: PlaneContext) => workloadLoader(context).load(args.id),
};
