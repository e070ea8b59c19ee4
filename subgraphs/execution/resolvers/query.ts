import { EcsError, ErrorCode } from '../../../lib/errors';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import { findWorkloads } from '../data/workloads';
import type { QueryResolverMap } from '../generated/resolvers-types';
import { workloadLoader } from './workload';

export const QueryResolvers: QueryResolverMap = {
  workload: async (_, args, context) => {
    const workload = await workloadLoader(context).load(args.id);
    if (workload) await authorize(context, 'workload.read', workload.tenantId);
    return workload;
  },
  workloads: async (_, args, context) => {
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
