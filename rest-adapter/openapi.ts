import { z } from 'zod';
import type { RouteDef } from './route-table';
import { schemas } from './schemas';
import { eventStreamPaths } from './event-stream-openapi';
import { exportBundlePaths } from './export-openapi';
import { migrationExportPaths } from './migration-export-openapi';
import { migrationImportPaths } from './migration-import-openapi';
import { storageObjectPaths } from './storage-openapi';

// 400: the input boundary refuses a malformed path or query (control characters, bad encoding) on every route.
const COMMON_ERRORS = [400, 401, 403, 429, 500];
const BODY_ERRORS = [400, 408, 413, 415];

type JsonObject = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
}

/** `/tenants/:id` -> `/v1/tenants/{id}` */
export function openApiPath(path: string, prefix = '/v1'): string {
  return prefix + path.replace(/:(\w+)/g, '{$1}');
}

function parameters(route: RouteDef): JsonObject[] {
  const inPath = [...route.path.matchAll(/:(\w+)/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const shape = route.query instanceof z.ZodObject ? (route.query.shape as Record<string, z.ZodType>) : {};
  const inQuery = Object.entries(shape).map(([name, schema]) => {
    const { description, ...rest } = jsonSchema(schema, 'output');
    return { name, in: 'query', required: false, ...(description ? { description } : {}), schema: rest };
  });
  const idempotency =
    route.method === 'post'
      ? [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description: 'Replays the first response (24 h) for a retry with the same key and body; 422 for another body.',
            schema: { type: 'string', minLength: 1, maxLength: 255 },
          },
        ]
      : [];
  return [...inPath, ...inQuery, ...idempotency];
}

function operation(route: RouteDef, deprecated: boolean): JsonObject {
  const errors = [
    ...new Set([...(route.body ? BODY_ERRORS : []), ...(route.method === 'post' ? [409, 422] : []), ...route.errors, ...COMMON_ERRORS]),
  ].sort();
  const success: JsonObject = { description: route.description };
  if (route.response) {
    success.content = { 'application/json': { schema: { $ref: `#/components/schemas/${route.response}` } } };
  }
  const params = parameters(route);
  return {
    operationId: deprecated ? `${route.operationId}Unversioned` : route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(deprecated || route.deprecated ? { deprecated: true } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }
      : {}),
    responses: {
      [String(route.status)]: success,
      ...Object.fromEntries(errors.map((status) => [String(status), { $ref: '#/components/responses/ErrorResponse' }])),
    },
  };
}

function componentSchemas(): JsonObject {
  const { schemas: all } = z.toJSONSchema(schemas, { uri: (id) => `#/components/schemas/${id}`, io: 'output' }) as {
    schemas: Record<string, JsonObject>;
  };
  return Object.fromEntries(Object.entries(all).map(([id, { $schema: _schema, $id: _id, ...schema }]) => [id, schema]));
}

/** The OpenAPI 3.1 document of the REST surface, generated from the route table. */
export function buildOpenApi(routes: readonly RouteDef[], options: { unversioned?: readonly RouteDef[] } = {}): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  const add = (path: string, method: string, op: JsonObject) => {
    (paths[path] ??= {})[method] = op;
  };
  for (const route of routes) add(openApiPath(route.path), route.method, operation(route, false));
  for (const route of options.unversioned ?? []) add(openApiPath(route.path, ''), route.method, operation(route, true));
  for (const [path, operations] of Object.entries({
    ...storageObjectPaths(),
    ...eventStreamPaths(),
    ...exportBundlePaths(),
    ...migrationExportPaths(),
    ...migrationImportPaths(),
  })) {
    for (const [method, op] of Object.entries(operations)) add(path, method, op);
  }
  add('/v1/openapi.json', 'get', {
    operationId: 'getOpenApi',
    summary: 'This OpenAPI document',
    tags: ['meta'],
    security: [],
    responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'ECS Interop API',
      version: 'v1',
      description: 'Euro Cloud Substrate interop API (WS4). Every route is one GraphQL operation on the gateway (POST /graphql).',
    },
    servers: [{ url: '/', description: 'This gateway; paths carry the /v1 version prefix' }],
    security: [{ oidc: [] }, { apiKey: [] }, { mtls: [] }],
    paths,
    components: {
      securitySchemes: {
        mtls: { type: 'mutualTLS' },
        oidc: { type: 'openIdConnect', openIdConnectUrl: '/.well-known/openid-configuration' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: componentSchemas(),
      responses: {
        ErrorResponse: {
          description: 'Error with evidence pointer',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}
