import { decodeKeyCursor, encodeKeyCursor } from '../../../lib/graphql/key-cursor';
import { pageSize } from '../../../lib/graphql/page-size';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findTenants } from '../data/tenants';
import { tenantLoader } from './tenant';

export const QueryResolvers = {
  tenant: (_: unknown, args: { id: string }, context: PlaneContext) => tenantLoader(context).load(args.id),
  tenants: async (_: unknown, args: { first?: number | null; after?: string | null }, context: PlaneContext) => {
    const first = pageSize(args.first);
    const { items, hasMore } = await findTenants({ db: context.db, first, afterId: decodeKeyCursor(args.after) });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last ? encodeKeyCursor(last.id) : null };
  },
};
