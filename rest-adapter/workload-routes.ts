import { z } from 'zod';
import { EcsError, ErrorCode } from '../lib/errors';
import { compact, cursorParam, defineRoute, limitParam, page } from './route-table';
import type { RouteDef } from './route-table';
import { CLASSIFICATIONS } from '../lib/domain/classification';

const WORKLOAD_FIELDS = 'id tenantId envelopeType imageRef policyRef classification jurisdiction status createdAt updatedAt';

interface WorkloadNode {
  id: string;
  tenantId: string;
  envelopeType: string;
  imageRef: string;
  policyRef: string | null;
  classification: string;
  jurisdiction: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

/** The spec's snake_case Workload body (`policy_ref` omitted when there is none). */
export function workloadBody(workload: WorkloadNode): Record<string, string> {
  return compact({
    id: workload.id,
    tenant_id: workload.tenantId,
    envelope_type: workload.envelopeType,
    image_ref: workload.imageRef,
    policy_ref: workload.policyRef ?? undefined,
    classification: workload.classification,
    jurisdiction: workload.jurisdiction,
    status: workload.status,
    created_at: workload.createdAt,
    updated_at: workload.updatedAt,
  }) as Record<string, string>;
}

/**
 * The skeleton's Workload: `id`, `tenant_id`, `envelope_type` and `image_ref` (the skeleton
 * requires `id`; a client may leave it out and gets a UUID). A chosen `id` is honoured, 409 when
 * it is in use. `jurisdiction` and `classification` default from the tenant. `status` is the
 * server's: a new workload is `admitted`, and a body saying otherwise is refused (400).
 */
const createBody = z.strictObject({
  id: z.string().optional(),
  tenant_id: z.string(),
  envelope_type: z.enum(['container', 'vm']),
  image_ref: z.string(),
  policy_ref: z.string().optional(),
  classification: z.enum(CLASSIFICATIONS).optional(),
  jurisdiction: z.string().optional(),
  status: z
    .literal('admitted', { error: 'status is the server\'s: a new workload is admitted (send no status, or "admitted")' })
    .optional(),
});
const listQuery = z.strictObject({
  tenant: z.string().min(1).optional().describe("Tenant id; defaults to the caller's tenant (required for platform callers)"),
  cursor: cursorParam,
  limit: limitParam,
});

export const workloadRoutes: RouteDef[] = [
  defineRoute({
    method: 'post',
    path: '/workloads',
    operationId: 'createWorkload',
    governs: { action: 'workload.deploy', tenant: ({ body }) => body.tenant_id },
    summary: 'Create workload',
    tag: 'workloads',
    body: createBody,
    status: 201,
    description: 'Created (admitted)',
    response: 'Workload',
    errors: [400, 409],
    handler: async ({ body, execute }) => {
      const data = await execute<{ createWorkload: WorkloadNode }>(
        `mutation CreateWorkload($input: CreateWorkloadInput!) { createWorkload(input: $input) { ${WORKLOAD_FIELDS} } }`,
        {
          input: {
            id: body.id,
            tenantId: body.tenant_id,
            envelopeType: body.envelope_type,
            imageRef: body.image_ref,
            policyRef: body.policy_ref,
            classification: body.classification,
            jurisdiction: body.jurisdiction,
          },
        },
      );
      return workloadBody(data.createWorkload);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/workloads',
    operationId: 'listWorkloads',
    summary: "List a tenant's workloads, newest first",
    tag: 'workloads',
    query: listQuery,
    status: 200,
    description: 'OK',
    response: 'WorkloadList',
    errors: [400],
    handler: async ({ query, caller, execute }) => {
      const tenantId = query.tenant ?? caller.tenantId;
      if (!tenantId) throw new EcsError(ErrorCode.BadRequest, 'tenant is required for callers without a tenant', { field: 'tenant' });
      const data = await execute<{ workloads: { items: WorkloadNode[]; nextCursor: string | null } }>(
        `query ListWorkloads($tenantId: ID!, $first: Int, $after: String) { workloads(tenantId: $tenantId, first: $first, after: $after) { items { ${WORKLOAD_FIELDS} } nextCursor } }`,
        { tenantId, first: query.limit, after: query.cursor },
      );
      return page(data.workloads.items.map(workloadBody), data.workloads.nextCursor);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/workloads/:id',
    operationId: 'getWorkload',
    summary: 'Get workload',
    tag: 'workloads',
    status: 200,
    description: 'OK',
    response: 'Workload',
    errors: [404],
    handler: async ({ params, execute }) => {
      const data = await execute<{ workload: WorkloadNode | null }>(
        `query GetWorkload($id: ID!) { workload(id: $id) { ${WORKLOAD_FIELDS} } }`,
        { id: params.id },
      );
      if (!data.workload) throw new EcsError(ErrorCode.NotFound, `workload ${String(params.id)} not found`);
      return workloadBody(data.workload);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/workloads/:id',
    operationId: 'deleteWorkload',
    summary: 'Delete workload',
    tag: 'workloads',
    status: 204,
    description: 'Deleted (status terminated, evidenced)',
    errors: [404],
    handler: async ({ params, execute }) => {
      await execute(`mutation DeleteWorkload($id: ID!) { deleteWorkload(id: $id) { id } }`, { id: params.id });
    },
  }),
];
