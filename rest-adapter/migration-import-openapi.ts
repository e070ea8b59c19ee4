import { IMPORT_GATES } from '../lib/migration/import-report';

type JsonObject = Record<string, unknown>;

const error = { $ref: '#/components/responses/ErrorResponse' };

const ImportReport = {
  type: 'object',
  required: ['import_id', 'status', 'gates', 'evidence_pointer'],
  properties: {
    import_id: { type: 'string', pattern: '^mim-[0-9a-f-]{36}$' },
    status: {
      type: 'string',
      enum: ['validated', 'refused', 'imported', 'active', 'rolled_back'],
      description:
        'refused at a gate; validated (kept, not yet made here: activate finishes it); imported (the tenant exists here as importing); active; rolled_back',
    },
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
    evidence_pointer: { type: 'string', description: 'the migration.import.validate event (platform chain)' },
    tenant_id: { type: ['string', 'null'], description: 'the tenant made here, once imported' },
    imported_at: { type: ['string', 'null'], format: 'date-time' },
    import_evidence_pointer: {
      type: ['string', 'null'],
      description: "the migration.import event: the tenant's chain here, linked to the source chain's head",
    },
    counts: {
      type: ['object', 'null'],
      properties: {
        buckets: { type: 'integer' },
        object_versions: { type: 'integer' },
        workloads: { type: 'integer' },
        bytes: { type: 'integer' },
      },
    },
    activated_at: { type: ['string', 'null'], format: 'date-time' },
    activation_evidence_pointer: { type: ['string', 'null'], description: 'the migration.activate event' },
    workloads_refused: {
      type: 'array',
      description: "workloads this deployment's policy refused at activation (now failed), each with its workload.refuse event",
      items: {
        type: 'object',
        required: ['workload_id', 'reason_code', 'evidence_pointer'],
        properties: { workload_id: { type: 'string' }, reason_code: { type: 'string' }, evidence_pointer: { type: 'string' } },
      },
    },
    rolled_back_at: { type: ['string', 'null'], format: 'date-time' },
    rollback_evidence_pointer: { type: ['string', 'null'], description: 'the migration.rollback event' },
  },
};

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^mim-[0-9a-f-]{36}$' } };

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
          '201': report('Every gate passed and the tenant was made here as importing (status imported)'),
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
        parameters: [idParameter],
        responses: {
          '200': report('The report'),
          ...Object.fromEntries(['401', '403', '404', '500', '503'].map((status) => [status, error])),
        },
      },
    },
    '/v1/migrations/imports/{id}/activate': {
      post: {
        operationId: 'activateMigrationImport',
        summary:
          "Activate an imported tenant: every workload evaluated under this deployment's policy (refusals evidenced, the workload failed), the tenant active, migration.activate; idempotent; platform-admin",
        tags,
        parameters: [idParameter],
        responses: {
          '200': report('Activated (or already)'),
          ...Object.fromEntries(['401', '403', '404', '409', '500', '503'].map((status) => [status, error])),
        },
      },
    },
    '/v1/migrations/imports/{id}/rollback': {
      post: {
        operationId: 'rollbackMigrationImport',
        summary:
          'Discard an import on this side (before the tenant has acted here): its tenant, buckets, objects and workloads removed, migration.rollback kept; idempotent; platform-admin',
        tags,
        parameters: [idParameter],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 } } },
            },
          },
        },
        responses: {
          '200': report('Rolled back (or already)'),
          ...Object.fromEntries(['400', '401', '403', '404', '409', '500', '503'].map((status) => [status, error])),
        },
      },
    },
  };
}
