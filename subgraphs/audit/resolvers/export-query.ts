import { EcsError, ErrorCode } from '../../../lib/errors';
import { decodeKeyCursor, encodeKeyCursor } from '../../../lib/graphql/key-cursor';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import { findExports, getExport } from '../exports/export-store';
import type { QueryResolverMap } from '../generated/resolvers-types';

function decodeAfter(after: string | null | undefined): { requestedAt: Date; id: string } | undefined {
  const key = decodeKeyCursor(after);
  if (key === undefined) return undefined;
  const [iso, id] = key.split('|');
  const requestedAt = new Date(iso ?? '');
  if (!id || Number.isNaN(requestedAt.getTime()))
    throw new EcsError(ErrorCode.InvalidCursor, 'cursor is not one this service issued', { field: 'after' });
  return { requestedAt, id };
}

/** Exports are read by those who may export the tenant's evidence. */
export const ExportQueryResolvers: QueryResolverMap = {
  evidenceExport: async (_, args, context) => {
    const row = await getExport({ db: context.db, id: args.id }).catch(() => null);
    if (row) await authorize(context, 'evidence.export', row.tenantId);
    return row;
  },

  evidenceExports: async (_, args, context) => {
    const tenantId = args.tenantId ?? context.caller.tenantId;
    await authorize(context, 'evidence.export', tenantId);
    const { items, hasMore } = await findExports({ db: context.db, tenantId, first: pageSize(args.first), after: decodeAfter(args.after) });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last ? encodeKeyCursor(`${last.requestedAt.toISOString()}|${last.id}`) : null };
  },
};
