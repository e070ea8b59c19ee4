import { GOVERNANCE_HEADER_NAMES } from '../lib/domain/governance-headers';
import type { GovernanceHeaderName } from '../lib/domain/governance-headers';

type JsonObject = Record<string, unknown>;

/**
 * OpenAPI description of the streaming object routes (`/v1/storage/{bucket}/objects...`),
 * which are not GraphQL operations and so are not in the route table. The operations are
 * selected by query parameters; docs/storage.md has the full table.
 */
const DESCRIPTIONS: Record<GovernanceHeaderName, string> = {
  'x-eosc-jurisdiction': 'ISO 3166-1 alpha-2, EU, EEA, or a comma list (DE,FR)',
  'x-eosc-retention-ttl': 'ISO 8601 duration (P30D) or RFC 3339 timestamp',
  'x-eosc-integrity': 'sha256:<64 hex>; md5 and sha1 are rejected',
  'x-eosc-classification': 'public | internal | restricted | secret',
  'x-eosc-evidence-pointer': 'eosc://evidence/... or an https URL',
  'x-eosc-data-product-id': 'data product identifier',
  'x-eosc-usage-policy-snapshot-id': 'policy snapshot governing access',
  'x-eosc-consent-token-ref': 'consent/intent token reference',
};
const GOVERNANCE_HEADERS = GOVERNANCE_HEADER_NAMES.map((name) => [name, DESCRIPTIONS[name]] as const);

const header = (name: string, description: string, required: boolean): JsonObject => ({
  name,
  in: 'header',
  required,
  description,
  schema: { type: 'string' },
});
const query = (name: string, description: string, schema: JsonObject = { type: 'string' }): JsonObject => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const errors = (...statuses: number[]): JsonObject =>
  Object.fromEntries(statuses.map((status) => [String(status), { $ref: '#/components/responses/ErrorResponse' }]));
const jsonBody = (properties: JsonObject, required: string[]): JsonObject => ({
  required: true,
  content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties, required } } },
});
const written = {
  description:
    "Stored: bucket, key, version_id, etag (SHA-256), s3_etag (S3 ETag: MD5, or for a multipart object the MD5 of the parts' MD5s with -N), size, integrity, retention_until, origin, evidence_pointer",
  content: { 'application/json': { schema: { type: 'object' } } },
};
const json = (description: string): JsonObject => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });

export function storageObjectPaths(): Record<string, Record<string, JsonObject>> {
  const path: JsonObject[] = [
    { name: 'bucket', in: 'path', required: true, schema: { type: 'string' } },
    { name: 'key', in: 'path', required: true, description: 'object key, percent-encoded; may contain /', schema: { type: 'string' } },
  ];
  const tags = ['storage'];
  return {
    '/v1/storage/{bucket}/objects': {
      get: {
        operationId: 'listObjects',
        summary:
          "List current objects in key order; ?uploads lists open multipart uploads; ?versions lists every version of the bucket's keys",
        tags,
        parameters: [
          path[0],
          query('prefix', 'key prefix'),
          query('cursor', 'next_cursor of the previous page (current objects)'),
          query('start_after', 'current objects: begin after this key (instead of cursor)'),
          query('limit', '1..1000, default 100 (current objects, versions)', { type: 'integer', minimum: 1, maximum: 1000 }),
          query('uploads', 'list open multipart uploads'),
          query('upload_id_marker', 'uploads: continue after this upload of key_marker'),
          query('max_uploads', 'uploads: page size', { type: 'integer', minimum: 1, maximum: 1000 }),
          query('versions', 'list every version (and delete marker), newest first per key'),
          query('key_marker', 'uploads, versions: continue from this key'),
          query('version_id_marker', 'versions: continue after this version of key_marker'),
        ],
        responses: { '200': json('items and next_cursor; uploads or versions with their next markers'), ...errors(400, 403, 404) },
      },
    },
    '/v1/storage/{bucket}/objects/{key}': {
      put: {
        operationId: 'putObject',
        summary:
          'Put an object (streamed); with x-eosc-copy-source a copy; with ?legal_hold or ?retention a lock change; with ?upload_id&part_number a multipart part',
        tags,
        parameters: [
          ...path,
          ...GOVERNANCE_HEADERS.map(([name, description]) =>
            header(name, `${description} (required on put, forbidden to change on copy)`, false),
          ),
          header('x-eosc-legal-hold', 'ON places a legal hold on the new version', false),
          header('x-amz-meta-{name}', 'S3 user metadata kept with the version (at most 2 KiB of names and values)', false),
          header('x-eosc-copy-source', '<bucket>/<key>: copy within the provider, governance metadata unchanged', false),
          header('x-eosc-copy-source-version-id', 'version of the copy source', false),
          query('legal_hold', 'legal hold operation; body {"status":"ON"|"OFF","reason"?}'),
          query('retention', 'retention change; body {"retention_ttl", "bypass_governance"?}'),
          query(
            'upload_id',
            "multipart upload id (with part_number); x-eosc-integrity is then the part's SHA-256, required when the upload was started without the object's",
          ),
          query('part_number', '1..10000', { type: 'integer', minimum: 1, maximum: 10000 }),
          query('version_id', 'version for legal_hold / retention'),
        ],
        requestBody: {
          required: false,
          content: {
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
            'application/json': { schema: { type: 'object' } },
          },
        },
        responses: { '200': json('legal hold, retention or part result'), '201': written, ...errors(400, 403, 404, 409, 413) },
      },
      get: {
        operationId: 'getObject',
        summary:
          'Read the bytes with the governance headers (object.get + data.usage.receipt); ?versions lists versions; ?upload_id lists parts',
        tags,
        parameters: [
          ...path,
          query('version_id', 'a version of a versioned bucket'),
          query('verify_integrity', 'true: re-hash the stored bytes before serving'),
          query('versions', 'list versions'),
          query('upload_id', 'list the parts of a multipart upload'),
          query('cursor', 'versions: next page'),
          query('limit', 'versions: page size'),
        ],
        responses: {
          '200': {
            description: 'The bytes (or a JSON listing)',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          ...errors(400, 403, 404, 409),
        },
      },
      head: {
        operationId: 'headObject',
        summary: 'The governance metadata as headers, without bytes or evidence',
        tags,
        parameters: [...path, query('version_id', 'a version of a versioned bucket')],
        responses: { '200': { description: 'Headers only' }, '404': { description: 'No such object' } },
      },
      post: {
        operationId: 'multipartUpload',
        summary:
          '?uploads starts a multipart upload (governance headers required; without x-eosc-integrity each part declares its own SHA-256); ?upload_id completes it',
        tags,
        parameters: [
          ...path,
          query('uploads', 'start an upload'),
          query('upload_id', 'complete this upload'),
          ...GOVERNANCE_HEADERS.map(([name, description]) => header(name, description, false)),
        ],
        requestBody: jsonBody(
          {
            parts: { type: 'array', items: { type: 'object', properties: { part_number: { type: 'integer' }, etag: { type: 'string' } } } },
          },
          [],
        ),
        responses: { '201': written, ...errors(400, 403, 404, 413) },
      },
      delete: {
        operationId: 'deleteObject',
        summary:
          'Delete (marker in a versioned bucket); ?version_id removes one version; ?upload_id aborts an upload. Refused while locked.',
        tags,
        parameters: [...path, query('version_id', 'remove this version for good'), query('upload_id', 'abort this multipart upload')],
        responses: { '204': { description: 'Deleted; x-eosc-evidence-pointer names the evidence' }, ...errors(400, 403, 404) },
      },
    },
  };
}
