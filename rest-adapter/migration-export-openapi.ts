type JsonObject = Record<string, unknown>;

const error = { $ref: '#/components/responses/ErrorResponse' };
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^mex-[0-9a-f-]{36}$' } };

const MigrationExport = {
  type: 'object',
  required: ['id', 'tenant_id', 'scenario', 'state', 'requested_at'],
  properties: {
    id: { type: 'string' },
    tenant_id: { type: 'string' },
    scenario: { type: 'string', enum: ['full', 'data-only', 'evidence-only'] },
    state: { type: 'string', enum: ['queued', 'running', 'completed', 'failed'] },
    requested_at: { type: 'string', format: 'date-time' },
    completed_at: { type: ['string', 'null'], format: 'date-time' },
    manifest_digest: { type: ['string', 'null'] },
    package_digest: { type: ['string', 'null'] },
    package_size: { type: ['integer', 'null'] },
    items: { type: ['integer', 'null'] },
    object_versions: { type: ['integer', 'null'] },
    refused_items: { type: 'array', items: { type: 'object' } },
    error: { type: ['string', 'null'] },
    package_url: { type: ['string', 'null'] },
  },
};

/**
 * OpenAPI description of the tenant export routes (migration-export-router.ts), which run
 * jobs of the gateway process rather than one GraphQL operation and so are not in the route table.
 */
export function migrationExportPaths(): Record<string, Record<string, JsonObject>> {
  const tags = ['migrations'];
  return {
    '/v1/migrations/exports': {
      post: {
        operationId: 'requestMigrationExport',
        summary:
          'Export a tenant as a signed Core10-10 package (full, data-only or evidence-only); platform-admin or the tenant’s tenant-admin',
        tags,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['tenant_id', 'scenario'],
                properties: { tenant_id: { type: 'string' }, scenario: { type: 'string', enum: ['full', 'data-only', 'evidence-only'] } },
              },
            },
          },
        },
        responses: {
          '202': { description: 'Queued; poll the Location', content: { 'application/json': { schema: MigrationExport } } },
          ...Object.fromEntries(['400', '401', '403', '404', '415', '500', '503'].map((status) => [status, error])),
        },
      },
    },
    '/v1/migrations/exports/{id}': {
      get: {
        operationId: 'getMigrationExport',
        summary: 'State of a tenant export',
        tags,
        parameters: [idParameter],
        responses: {
          '200': { description: 'The export', content: { 'application/json': { schema: MigrationExport } } },
          ...Object.fromEntries(['401', '403', '404', '500', '503'].map((status) => [status, error])),
        },
      },
    },
    '/v1/migrations/exports/{id}/package': {
      get: {
        operationId: 'getMigrationExportPackage',
        summary:
          'Download a completed tenant export package (.tar.gz: manifest.json signed by manifest.sig, items, evidence/bundle.tar.gz)',
        tags,
        parameters: [idParameter],
        responses: {
          '200': {
            description: 'The package, streamed',
            headers: {
              'X-ECS-Package-Digest': { schema: { type: 'string' } },
              'X-ECS-Manifest-Digest': { schema: { type: 'string' } },
            },
            content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } },
          },
          ...Object.fromEntries(['401', '403', '404', '409', '500', '503'].map((status) => [status, error])),
        },
      },
    },
  };
}
