import { EcsError, ErrorCode } from '../../../lib/errors';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findWorkloads } from '../data/workloads';
import { workloadLoader } from './workload';

export const QueryResolvers = {
  workload: async (_: unknown, args: { id: string }, context: PlaneContext) => {
    const workload = await workloadLoader(context).load(args.id);
    if (workload) await authorize(context, 'workload.read', workload.tenantId);
    return workload;
  },
  workloads: async (_: unknown, args: { tenantId: string; first?: number | null; after?: string | null }, context: PlaneContext) => {
    await authorize(context, 'workload.read', args.tenantId);
    const scope = { listing: 'workloads', tenantId: args.tenantId };
    let after: { createdAt: Date; id: string } | undefined;
    if (args.after) {
      const position = context.cursors.decode(args.after, scope);
      if (typeof position.t !== 'string' || typeof position.i !== 'string') {
        throw new EcsError(ErrorCode.InvalidCursor, 'cursor is not one this service issued', { field: 'after' });
      }
      after = { createdAt: new Date(position.t), id: position.i };
    }
    const { items, hasMore } = await findWorkloads({ db: context.db, tenantId: args.tenantId, first: pageSize(args.first), after });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last ? context.cursors.encode({ t: last.createdAt.toISOString(), i: last.id }, scope) : null };
  },
};
