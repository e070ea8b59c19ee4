type JsonObject = Record<string, unknown>;

/**
 * OpenAPI description of `GET /v1/exports/{id}/bundle`, which streams bytes and so is not
 * in the route table (see export-bundle-router.ts).
 */
export function exportBundlePaths(): Record<string, Record<string, JsonObject>> {
  const error = { $ref: '#/components/responses/ErrorResponse' };
  return {
    '/v1/exports/{id}/bundle': {
      get: {
        operationId: 'getExportBundle',
        summary: 'Download a completed export as an evidence bundle (.tar.gz), verifiable with `ecs verify`',
        tags: ['exports'],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^exp-[0-9a-f-]{36}$' } }],
        responses: {
          '200': {
            description:
              'The bundle (manifest.json signed by manifest.sig, chain-segment.json, events.jsonl, verifier-inputs.json, profile-claim.json, jwks.json, artifacts/), streamed',
            headers: {
              ETag: { description: 'The bundle hash', schema: { type: 'string' } },
              'X-ECS-Bundle-Hash': { schema: { type: 'string' } },
              'X-ECS-Merkle-Root': { schema: { type: 'string' } },
            },
            content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } },
          },
          '401': error,
          '403': error,
          '404': error,
          '409': error,
          '429': error,
          '500': error,
          '503': error,
        },
      },
    },
  };
}
