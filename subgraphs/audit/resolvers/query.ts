import { z } from 'zod';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import { pageSize } from '../../../lib/graphql/page-size';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findArtifact } from '../data/artifacts';
import { verifyChain } from '../data/chain';
import { signChainHead } from '../data/checkpoints';
import { findEvents } from '../data/events';
import type { EventFilter, EventPosition } from '../data/events';
import type { QueryResolverMap } from '../generated/resolvers-types';
import { eventLoader } from './evidence-event';

const sequence = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);
const eventFilter = z
  .object({
    tenantId: z.string().min(1).max(63).nullish(),
    eventTypes: z.array(z.string().min(1).max(100)).min(1).max(50).nullish(),
    outcomes: z
      .array(z.enum(['accepted', 'refused', 'failed']))
      .min(1)
      .nullish(),
    occurredFrom: z.date().nullish(),
    occurredTo: z.date().nullish(),
    correlationId: z.string().min(1).max(200).nullish(),
    fromSequence: sequence.nullish(),
    toSequence: sequence.nullish(),
  })
  .nullish();

/** Drops nulls so equal filters give equal cursor scopes. */
function normalise(filter: z.infer<typeof eventFilter>): EventFilter {
  return Object.fromEntries(Object.entries(filter ?? {}).filter(([, value]) => value !== null && value !== undefined));
}

function scopeOf(filter: EventFilter, context: PlaneContext): JsonObject {
  return {
    listing: 'events',
    caller_tenant: context.caller.tenantId ?? null,
    filter: Object.fromEntries(
      Object.entries(filter).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]),
    ) as JsonObject,
  };
}

export const QueryResolvers: QueryResolverMap = {
  event: async (_, args, context) => {
    const event = await eventLoader(context).load(args.id);
    if (event) await authorize(context, 'evidence.read', event.envelope.tenant_id);
    return event;
  },

  events: async (_, args, context) => {
    const filter = normalise(parseInput(eventFilter, args.filter));
    // A tenant's callers read their own chain; platform-wide auditors any chain, or all.
    filter.tenantId ??= context.caller.tenantId;
    await authorize(context, 'evidence.read', filter.tenantId);
    const scope = scopeOf(filter, context);
    let after: EventPosition | undefined;
    if (args.after !== null && args.after !== undefined) {
      const position = context.cursors.decode(args.after, scope);
      if (typeof position.c !== 'string' || typeof position.s !== 'number') {
        throw new EcsError(ErrorCode.InvalidCursor, 'cursor is not one this service issued', { field: 'after' });
      }
      after = { chainId: position.c, sequence: position.s };
    }
    const { items, hasMore } = await findEvents({ db: context.db, filter, first: pageSize(args.first), after });
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: hasMore && last ? context.cursors.encode({ c: last.envelope.chain_id, s: last.envelope.sequence }, scope) : null,
    };
  },

  evidence: async (_, args, context) => {
    await authorize(context, 'evidence.read', args.tenantId);
    return findArtifact({ db: context.db, pointer: args.pointer, tenantId: args.tenantId });
  },

  verifyChain: async (_, args, context) => {
    await authorize(context, 'evidence.read', args.tenantId);
    const range = parseInput(
      z
        .object({ fromSequence: sequence.nullish(), toSequence: sequence.nullish() })
        .refine((value) => !value.fromSequence || !value.toSequence || value.fromSequence <= value.toSequence, {
          message: 'must not be below fromSequence',
          path: ['toSequence'],
        }),
      { fromSequence: args.fromSequence, toSequence: args.toSequence },
    );
    return verifyChain({
      db: context.db,
      tenantId: args.tenantId,
      fromSequence: range.fromSequence ?? undefined,
      toSequence: range.toSequence ?? undefined,
      signal: context.signal,
    });
  },

  chainHead: async (_, args, context) => {
    await authorize(context, 'evidence.read', args.tenantId);
    return signChainHead({ db: context.db, keys: context.keys, tenantId: args.tenantId, signal: context.signal });
  },
};
