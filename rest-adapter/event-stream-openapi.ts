import { z } from 'zod';
import { eventStreamQuery } from './event-stream-query';

type JsonObject = Record<string, unknown>;

/**
 * OpenAPI description of the live-event paths, which are not GraphQL operations and so
 * are not in the route table: `GET /v1/events/stream` (SSE, its query generated from the
 * same zod schema the handler validates with) and `GET /v1/asyncapi.json`.
 */
export function eventStreamPaths(): Record<string, Record<string, JsonObject>> {
  const shape = eventStreamQuery.shape as Record<string, z.ZodType>;
  const parameters: JsonObject[] = Object.entries(shape).map(([name, schema]) => {
    const { $schema: _schema, description, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonObject;
    return { name, in: 'query', required: false, ...(description ? { description } : {}), schema: rest };
  });
  parameters.push({
    name: 'Last-Event-ID',
    in: 'header',
    required: false,
    description: 'Resume: the id (sequence) of the last event received; EventSource sends it when it reconnects',
    schema: { type: 'string', pattern: '^\\d{1,10}$' },
  });
  const error = { $ref: '#/components/responses/ErrorResponse' };
  return {
    '/v1/events/stream': {
      get: {
        operationId: 'streamEvents',
        summary: 'Live audit events as Server-Sent Events (same source and filters as the auditEvents subscription)',
        tags: ['audit'],
        parameters,
        responses: {
          '200': {
            description:
              'text/event-stream: per event `id: <sequence>` (tenant streams) and `data: <canonical event JSON>`; ' +
              '`: keepalive` comments; when the server ends the stream, first `event: end` with `data: {code, message}` ' +
              '(ECS_SLOW_CONSUMER, ECS_UNAUTHENTICATED when the credentials expire, ECS_DEPENDENCY_UNAVAILABLE at shutdown).',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...Object.fromEntries([400, 401, 403, 429, 500].map((status) => [String(status), error])),
        },
      },
    },
    '/v1/asyncapi.json': {
      get: {
        operationId: 'getAsyncApi',
        summary: 'The AsyncAPI 2.6 document of the live audit events',
        tags: ['meta'],
        security: [],
        responses: { '200': { description: 'AsyncAPI 2.6 document', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
  };
}
