import { IMPORT_GATES } from '../lib/migration/import-report';

type JsonObject = Record<string, unknown>;

const error = { $ref: '#/components/responses/ErrorResponse' };

const ImportReport = {
  type: 'object',
  required: ['import_id', 'status', 'gates', 'evidence_pointer'],
  properties: {
    import_id: { type: 'string', pattern: '^mim-[0-9a-f-]{36}$' },
    status: { type: 'string', enum: ['validated', 'refused'] },
    validated_at: { type: 'string', format: 'date-time' },
    source_provider: { type: ['string', 'null'] },
    source_tenant_id: { type: ['string', 'null'] },
    source_chain_id: { type: ['string', 'null'] },
    source_head_sequence: { type: ['integer', 'null'] },
    source_head_hash: { type: ['string', 'null'] },
    package_digest: { type: 'string' },
    package_size: { type: 'integer' },
    source_jwks_url: { type: 'string' },
    source_url: { type: ['string', 'null'], description: 'where the package was pulled from; null when uploaded' },
    gates: {
      type: 'array',
      items: {
        type: 'object',
        required: ['gate', 'result', 'reason'],
        properties: {
          gate: {
            type: 'string',
            enum: [...IMPORT_GATES],
          },
          result: { type: 'string', enum: ['pass', 'fail'] },
          reason: { type: 'string' },
        },
      },
    },
    evidence_pointer: { type: 'string' },
  },
};

const report = (description: string) => ({ description, content: { 'application/json': { schema: ImportReport } } });

/** OpenAPI description of the tenant import validation routes (migration-import-router.ts). */
export function migrationImportPaths(): Record<string, Record<string, JsonObject>> {
  const tags = ['migrations'];
  return {
    '/v1/migrations/imports': {
      post: {
        operationId: 'validateMigrationImport',
        summary:
          'Upload a tenant export package (or name it on its source, as JSON, to be pulled) and run the import validation gates (signature, integrity, evidence bundle, jurisdiction, classification, policy baseline, authority binding, id clash); platform-admin',
        tags,
        parameters: [
          {
            name: 'source_jwks_url',
            in: 'query',
            required: false,
            description:
              "With an uploaded package (required then): the source deployment's published keys (/.well-known/jwks.json), fetched with a 5 s timeout, at most 64 KiB",
            schema: { type: 'string', format: 'uri' },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/gzip': { schema: { type: 'string', format: 'binary' } },
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['source_url', 'source_jwks_url'],
                properties: {
                  source_url: {
                    type: 'string',
                    format: 'uri',
                    description: 'the package on the source: GET /v1/migrations/exports/{id}/package there',
                  },
                  source_token: { type: 'string', description: 'bearer token for source_url; sent there only, never kept' },
                  source_jwks_url: { type: 'string', format: 'uri', description: "the source deployment's /.well-known/jwks.json" },
                },
              },
            },
          },
        },
        responses: {
          '201': report('Every gate passed: validated (the package is kept for the next step)'),
          '200': report('Refused at one or more gates: only the report and its evidence are kept'),
          ...Object.fromEntries(['400', '401', '403', '413', '415', '500', '503'].map((status) => [status, error])),
        },
      },
    },
    '/v1/migrations/imports/{id}': {
      get: {
        operationId: 'getMigrationImport',
        summary: 'The validation report of an import',
        tags,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^mim-[0-9a-f-]{36}$' } }],
        responses: {
          '200': report('The report'),
          ...Object.fromEntries(['401', '403', '404', '500', '503'].map((status) => [status, error])),
        },
      },
    },
  };
}
