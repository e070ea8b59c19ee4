import { decodeKeyCursor, encodeKeyCursor } from '../../../lib/graphql/key-cursor';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import { assertService } from '../../../lib/subgraph/governed-action';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { resolveApiKey } from '../data/api-keys';
import { decideAuthority, findBindingBySnapshot, findBindings, findLatestBinding } from '../data/authority-bindings';
import { apiKeyLoader } from './api-key';

export const QueryResolvers = {
  whoami: (_: unknown, __: unknown, context: PlaneContext) => context.caller,

  apiKey: async (_: unknown, args: { id: string }, context: PlaneContext) => {
    const key = await apiKeyLoader(context).load(args.id);
    if (key) await authorize(context, 'apikey.read', key.tenantId);
    return key;
  },

  /** Authority bindings are platform governance records, readable by every authenticated role. */
  authorityBinding: async (_: unknown, args: { id: string }, context: PlaneContext) => {
    await authorize(context, 'authority.read', context.caller.tenantId);
    return findLatestBinding({ db: context.db, id: args.id });
  },

  authoritySnapshot: async (_: unknown, args: { snapshotId: string }, context: PlaneContext) => {
    await authorize(context, 'authority.read', context.caller.tenantId);
    return findBindingBySnapshot({ db: context.db, snapshotId: args.snapshotId });
  },

  authorityBindings: async (_: unknown, args: { first?: number | null; after?: string | null }, context: PlaneContext) => {
    await authorize(context, 'authority.read', context.caller.tenantId);
    const { items, hasMore } = await findBindings({ db: context.db, first: pageSize(args.first), afterId: decodeKeyCursor(args.after) });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last ? encodeKeyCursor(last.id) : null };
  },

  authorityDecision: async (_: unknown, args: { bindingId: string; action: string }, context: PlaneContext) => {
    await assertService(context, 'authority.decide');
    return decideAuthority({ db: context.db, bindingId: args.bindingId, action: args.action });
  },

  apiKeyLookup: async (_: unknown, args: { key: string }, context: PlaneContext) => {
    await assertService(context, 'apikey.resolve');
    const resolution = await resolveApiKey({ db: context.db, presented: args.key });
    if (!resolution.ok) return { ok: false, reason: resolution.reason };
    const { key } = resolution;
    return { ok: true, reason: null, apiKeyId: key.id, tenantId: key.tenantId, scopes: key.scopes, expiresAt: key.expiresAt };
  },
};
