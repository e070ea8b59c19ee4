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
    cutover: { type: 'string', enum: ['pending', 'completed', 'rolled_back'] },
    migrated_to: { type: ['string', 'null'], format: 'uri' },
    cutover_at: { type: ['string', 'null'], format: 'date-time' },
    cutover_evidence_pointer: { type: ['string', 'null'] },
  },
};

/** A JSON request body of `properties`, nothing else. */
const jsonRequest = (required: boolean, schema: JsonObject) => ({
  required,
  content: { 'application/json': { schema: { type: 'object', additionalProperties: false, ...schema } } },
});

const cutoverResponses = (description: string) => ({
  '200': { description, content: { 'application/json': { schema: MigrationExport } } },
  ...Object.fromEntries(['400', '401', '403', '404', '409', '415', '500', '503'].map((status) => [status, error])),
});

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
    '/v1/migrations/exports/{id}/complete': {
      post: {
        operationId: 'completeMigrationExport',
        summary:
          'Complete the migration on the source: the tenant becomes migrated (read-only here, pointing at the target); idempotent; 409 unless the export is completed and not rolled back',
        tags,
        parameters: [idParameter],
        requestBody: jsonRequest(true, {
          required: ['migrated_to'],
          properties: {
            migrated_to: {
              type: 'string',
              format: 'uri',
              maxLength: 2048,
              description: 'the tenant on the target deployment (http or https), e.g. https://target.example.eu/v1/tenants/acme',
            },
          },
        }),
        responses: cutoverResponses('Completed (or already completed by this export): cutover completed'),
      },
    },
    '/v1/migrations/exports/{id}/rollback': {
      post: {
        operationId: 'rollbackMigrationExport',
        summary:
          'Roll the migration back on the source before completion: evidenced, the package removed, the tenant left as it is; idempotent; 409 once completed',
        tags,
        parameters: [idParameter],
        requestBody: jsonRequest(false, { properties: { reason: { type: 'string', maxLength: 500 } } }),
        responses: cutoverResponses('Rolled back (or already rolled back): cutover rolled_back'),
      },
    },
  };
}
