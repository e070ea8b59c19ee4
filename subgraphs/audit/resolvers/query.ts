import { EcsError, ErrorCode } from '../../../lib/errors';
import { pageSize } from '../../../lib/graphql/page-size';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findEvents } from '../data/events';
import type { EventPosition } from '../data/events';
import { eventLoader } from './evidence-event';

function encodePosition(position: EventPosition): string {
  return Buffer.from(JSON.stringify([position.chainId, position.sequence]), 'utf8').toString('base64url');
}

function decodePosition(cursor: string | null | undefined): EventPosition | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && Number.isInteger(parsed[1])) {
      return { chainId: parsed[0], sequence: parsed[1] as number };
    }
  } catch {
    // fall through to the error below
  }
  throw new EcsError(ErrorCode.InvalidCursor, 'cursor is not one this service issued', { field: 'after' });
}

export const QueryResolvers = {
  event: (_: unknown, args: { id: string }, context: PlaneContext) => eventLoader(context).load(args.id),
  events: async (
    _: unknown,
    args: { tenantId?: string | null; first?: number | null; after?: string | null },
    context: PlaneContext,
  ) => {
    const { items, hasMore } = await findEvents({
      db: context.db,
      tenantId: args.tenantId ?? undefined,
      first: pageSize(args.first),
      after: decodePosition(args.after),
    });
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        hasMore && last ? encodePosition({ chainId: last.envelope.chain_id, sequence: last.envelope.sequence }) : null,
    };
  },
};
