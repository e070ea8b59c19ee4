import { z } from 'zod';
import { timestampField } from '../lib/domain/timestamp';
import { EcsError, ErrorCode } from '../lib/errors';
import { cursorParam, defineRoute, limitParam, page } from './route-table';
import type { RouteDef } from './route-table';

interface EventNode {
  eventHash: string;
  /** The event exactly as hashed (RFC 8785 canonical JSON, snake_case). */
  canonical: string;
}

/** The Core10-05 envelope: the canonical text parsed, which is what the chain hashes. */
export function eventBody(event: EventNode): Record<string, unknown> {
  const envelope = JSON.parse(event.canonical) as Record<string, unknown>;
  return { ...envelope, event_hash: envelope.event_hash ?? event.eventHash };
}

const listQuery = z.strictObject({
  tenant: z.string().min(1).optional().describe("Tenant chain; defaults to the caller's tenant, all chains for platform auditors"),
  event_type: z.string().min(1).optional().describe('Event type, or a comma list of them (e.g. data.usage.receipt)'),
  outcome: z.enum(['accepted', 'refused', 'failed']).optional(),
  from: timestampField.optional().describe('occurred_at at or after this instant'),
  to: timestampField.optional().describe('occurred_at before this instant'),
  cursor: cursorParam,
  limit: limitParam,
});
const evidenceQuery = z.strictObject({
  tenant: z.string().min(1).optional().describe("Tenant of the artifact; defaults to the caller's tenant (required for platform callers)"),
});

export const eventRoutes: RouteDef[] = [
  defineRoute({
    method: 'get',
    path: '/events',
    operationId: 'listEvents',
    summary: 'List audit events',
    tag: 'audit',
    query: listQuery,
    status: 200,
    description: 'OK',
    response: 'EvidenceEventList',
    errors: [400, 410],
    handler: async ({ query, execute }) => {
      const filter = {
        tenantId: query.tenant,
        eventTypes: query.event_type
          ?.split(',')
          .map((type) => type.trim())
          .filter(Boolean),
        outcomes: query.outcome ? [query.outcome] : undefined,
        occurredFrom: query.from,
        occurredTo: query.to,
      };
      const data = await execute<{ events: { items: EventNode[]; nextCursor: string | null } }>(
        `query ListEvents($filter: EventFilter, $first: Int, $after: String) { events(filter: $filter, first: $first, after: $after) { items { eventHash canonical } nextCursor } }`,
        { filter, first: query.limit, after: query.cursor },
      );
      return page(data.events.items.map(eventBody), data.events.nextCursor);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/events/:id',
    operationId: 'getEvent',
    summary: 'Get audit event',
    tag: 'audit',
    status: 200,
    description: 'OK',
    response: 'EvidenceEvent',
    errors: [404],
    handler: async ({ params, execute }) => {
      const data = await execute<{ event: EventNode | null }>(`query GetEvent($id: ID!) { event(id: $id) { eventHash canonical } }`, {
        id: params.id,
      });
      if (!data.event) throw new EcsError(ErrorCode.NotFound, `event ${String(params.id)} not found`);
      return eventBody(data.event);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/evidence/:pointer',
    operationId: 'getEvidence',
    summary: 'Get the evidence artifact an evidence pointer names (URL-encoded eosc://evidence/sha256:...)',
    tag: 'audit',
    query: evidenceQuery,
    status: 200,
    description: 'The artifact content; ETag is its recomputed digest',
    response: 'EvidenceArtifact',
    errors: [400, 404],
    handler: async ({ params, query, caller, execute, res }) => {
      const tenantId = query.tenant ?? caller.tenantId;
      if (!tenantId) throw new EcsError(ErrorCode.BadRequest, 'tenant is required for callers without a tenant', { field: 'tenant' });
      const data = await execute<{ evidence: { digest: string; verified: boolean; content: Record<string, unknown> } | null }>(
        `query GetEvidence($pointer: String!, $tenantId: ID!) { evidence(pointer: $pointer, tenantId: $tenantId) { digest verified content } }`,
        { pointer: params.pointer, tenantId },
      );
      if (!data.evidence) throw new EcsError(ErrorCode.NotFound, 'no such evidence artifact in this tenant');
      res.setHeader('etag', `"${data.evidence.digest}"`);
      res.setHeader('ecs-evidence-verified', String(data.evidence.verified));
      return data.evidence.content;
    },
  }),
];
