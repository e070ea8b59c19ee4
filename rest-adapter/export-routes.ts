import { z } from 'zod';
import { timestampField } from '../lib/domain/timestamp';
import { EcsError, ErrorCode } from '../lib/errors';
import './export-schemas';
import { compact, cursorParam, defineRoute, limitParam, page } from './route-table';
import type { RouteDef } from './route-table';
import { EXPORT_PROFILES } from '../lib/domain/evidence-profiles';

const EXPORT_FIELDS =
  'id tenantId chainId evidenceProfileId state fromSequence toSequence eventsDone requestedAt completedAt actor evidencePointer bundleHash merkleRoot kid error bundlePath';

interface ExportNode {
  id: string;
  tenantId: string;
  chainId: string;
  evidenceProfileId: string;
  state: string;
  fromSequence: number;
  toSequence: number;
  eventsDone: number;
  requestedAt: string;
  completedAt: string | null;
  actor: string;
  evidencePointer: string;
  bundleHash: string | null;
  merkleRoot: string | null;
  kid: string | null;
  error: string | null;
  bundlePath: string | null;
}

/** The snake_case export status body (`bundle_url` once completed). */
export function exportBody(node: ExportNode): Record<string, unknown> {
  return compact({
    id: node.id,
    tenant_id: node.tenantId,
    chain_id: node.chainId,
    evidence_profile_id: node.evidenceProfileId,
    state: node.state,
    from_sequence: node.fromSequence,
    to_sequence: node.toSequence,
    event_count: node.toSequence - node.fromSequence + 1,
    events_done: node.eventsDone,
    requested_at: node.requestedAt,
    completed_at: node.completedAt,
    requested_by: node.actor,
    evidence_pointer: node.evidencePointer,
    bundle_hash: node.bundleHash,
    merkle_root: node.merkleRoot,
    key_id: node.kid,
    error: node.error,
    bundle_url: node.bundlePath,
  });
}

/** Seconds a client at its export limit waits before asking again. */
const EXPORT_RETRY_AFTER_S = 10;

const sequence = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);
/** The range is a sequence range or a time range (`from`/`to`, as on /v1/events); default the whole chain. */
const createBody = z.strictObject({
  tenant_id: z.string().min(1).optional().describe("Defaults to the caller's tenant (required for platform callers)"),
  evidence_profile_id: z.enum(EXPORT_PROFILES),
  from_sequence: sequence.optional(),
  to_sequence: sequence.optional().describe('At most the chain head at request time (the default)'),
  from: timestampField.optional().describe('Events that occurred at or after this instant'),
  to: timestampField.optional().describe('...and before this one'),
});
const listQuery = z.strictObject({
  tenant: z.string().min(1).optional().describe("Tenant id; defaults to the caller's tenant (all tenants for platform auditors)"),
  cursor: cursorParam,
  limit: limitParam,
});

export const exportRoutes: RouteDef[] = [
  defineRoute({
    method: 'post',
    path: '/exports',
    operationId: 'createExport',
    governs: { action: 'evidence.export', tenant: ({ body, caller }) => body.tenant_id ?? caller.tenantId },
    summary: 'Request an evidence export (a signed bundle of a chain range)',
    tag: 'exports',
    body: createBody,
    status: 202,
    description: 'Accepted: the export is queued; poll GET /v1/exports/{id} until state is completed, then download bundle_url',
    response: 'EvidenceExport',
    errors: [400],
    handler: async ({ body, execute, res }) => {
      const data = await execute<{ requestEvidenceExport: ExportNode }>(
        `mutation RequestExport($input: EvidenceExportInput!) { requestEvidenceExport(input: $input) { ${EXPORT_FIELDS} } }`,
        {
          input: {
            tenantId: body.tenant_id,
            evidenceProfileId: body.evidence_profile_id,
            fromSequence: body.from_sequence,
            toSequence: body.to_sequence,
            occurredFrom: body.from,
            occurredTo: body.to,
          },
        },
      ).catch((error: unknown) => {
        // At the per-principal limit: a slot frees when one of the running exports ends.
        if (error instanceof EcsError && error.code === ErrorCode.RateLimited) res.setHeader('retry-after', String(EXPORT_RETRY_AFTER_S));
        throw error;
      });
      res.setHeader('location', `/v1/exports/${data.requestEvidenceExport.id}`);
      return exportBody(data.requestEvidenceExport);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/exports',
    operationId: 'listExports',
    summary: 'List evidence exports, newest first',
    tag: 'exports',
    query: listQuery,
    status: 200,
    description: 'OK',
    response: 'EvidenceExportList',
    errors: [400],
    handler: async ({ query, execute }) => {
      const data = await execute<{ evidenceExports: { items: ExportNode[]; nextCursor: string | null } }>(
        `query ListExports($tenantId: ID, $first: Int, $after: String) { evidenceExports(tenantId: $tenantId, first: $first, after: $after) { items { ${EXPORT_FIELDS} } nextCursor } }`,
        { tenantId: query.tenant, first: query.limit, after: query.cursor },
      );
      return page(data.evidenceExports.items.map(exportBody), data.evidenceExports.nextCursor);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/exports/:id',
    operationId: 'getExport',
    summary: 'Get the status of an evidence export',
    tag: 'exports',
    status: 200,
    description: 'OK (state queued, running, completed or failed)',
    response: 'EvidenceExport',
    errors: [404],
    handler: async ({ params, execute }) => {
      const data = await execute<{ evidenceExport: ExportNode | null }>(
        `query GetExport($id: ID!) { evidenceExport(id: $id) { ${EXPORT_FIELDS} } }`,
        {
          id: params.id,
        },
      );
      if (!data.evidenceExport) throw new EcsError(ErrorCode.NotFound, `export ${String(params.id)} not found`);
      return exportBody(data.evidenceExport);
    },
  }),
];
