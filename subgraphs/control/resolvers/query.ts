import { EcsError, ErrorCode } from '../../../lib/errors';
import { decodeKeyCursor, encodeKeyCursor } from '../../../lib/graphql/key-cursor';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import { federationClaims } from '../claims/federation-claims';
import { findBaseline, findBaselines, getSnapshot } from '../data/policy-baselines';
import { findTenants } from '../data/tenants';
import type { QueryResolverMap } from '../generated/resolvers-types';
import { tenantLoader } from './tenant';

export const QueryResolvers: QueryResolverMap = {
  tenant: async (_, args, context) => {
    await authorize(context, 'tenant.read', args.id);
    return tenantLoader(context).load(args.id);
  },
  /** Platform-wide callers list every tenant; everyone else sees their own. */
  tenants: async (_, args, context) => {
    await authorize(context, 'tenant.read', context.caller.tenantId);
    const first = pageSize(args.first);
    const { items, hasMore } = await findTenants({
      db: context.db,
      first,
      afterId: decodeKeyCursor(args.after),
      onlyId: context.caller.tenantId,
    });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last ? encodeKeyCursor(last.id) : null };
  },
  /** Policy baselines are platform governance records, readable by every role. */
  policyBaseline: async (_, args, context) => {
    await authorize(context, 'policy.read', context.caller.tenantId);
    return findBaseline({ db: context.db, name: args.name });
  },
  policyBaselines: async (_, args, context) => {
    await authorize(context, 'policy.read', context.caller.tenantId);
    const { items, hasMore } = await findBaselines({ db: context.db, first: pageSize(args.first), afterName: decodeKeyCursor(args.after) });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last ? encodeKeyCursor(last.name) : null };
  },
  policySnapshot: async (_, args, context) => {
    await authorize(context, 'policy.read', context.caller.tenantId);
    return getSnapshot({ db: context.db, id: args.id });
  },
  /** Any authenticated caller: the claims describe the deployment, not a tenant. */
  federationClaims: (_, __, context) => {
    if (!context.config) throw new EcsError(ErrorCode.Internal, 'the control plane runs without a configuration');
    return federationClaims(context.config);
  },
};
