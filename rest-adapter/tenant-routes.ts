import { z } from 'zod';
import { EcsError, ErrorCode } from '../lib/errors';
import { cursorParam, defineRoute, limitParam, page } from './route-table';
import type { RouteDef } from './route-table';
import { CLASSIFICATIONS } from '../lib/domain/classification';

const TENANT_FIELDS = 'id authorityBinding jurisdiction classificationCeiling policyBaseline status migratedTo createdAt updatedAt';

export interface TenantNode {
  id: string;
  authorityBinding: string;
  jurisdiction: string;
  classificationCeiling: string;
  policyBaseline: string;
  status: string;
  migratedTo?: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The spec's snake_case Tenant body (`migrated_to` only once the tenant has left for another deployment). */
export function tenantBody(tenant: TenantNode): Record<string, string> {
  return {
    id: tenant.id,
    authority_binding: tenant.authorityBinding,
    jurisdiction: tenant.jurisdiction,
    classification_ceiling: tenant.classificationCeiling,
    policy_baseline: tenant.policyBaseline,
    status: tenant.status,
    ...(tenant.migratedTo ? { migrated_to: tenant.migratedTo } : {}),
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
  };
}

const classification = z.enum(CLASSIFICATIONS);
const STATUS_CHANGES = 'status changes through POST /v1/tenants/{id}/suspend and DELETE /v1/tenants/{id}';
/** The skeleton's Tenant. `status` is the server's: a new tenant is `active`, and a body saying otherwise is refused. */
const createBody = z.strictObject({
  id: z.string(),
  authority_binding: z.string(),
  jurisdiction: z.string(),
  classification_ceiling: classification.optional(),
  policy_baseline: z.string(),
  status: z.literal('active', { error: `a new tenant is active; ${STATUS_CHANGES}` }).optional(),
});
/**
 * The skeleton's Tenant, every field optional (its PATCH names the whole Tenant schema, with
 * `required`): `id` may be repeated but never changed, `status` repeated but changed only by
 * suspend and delete.
 */
const updateBody = z.strictObject({
  id: z.string().optional(),
  authority_binding: z.string().optional(),
  jurisdiction: z.string().optional(),
  classification_ceiling: classification.optional(),
  policy_baseline: z.string().optional(),
  status: z.enum(['active', 'suspended', 'deleted']).optional(),
});
const listQuery = z.strictObject({ cursor: cursorParam, limit: limitParam });

const byId = (operation: string, name: string) => `mutation ${name}($id: ID!) { ${operation}(id: $id) { ${TENANT_FIELDS} } }`;

export const tenantRoutes: RouteDef[] = [
  defineRoute({
    method: 'post',
    path: '/tenants',
    operationId: 'createTenant',
    governs: { action: 'tenant.create' },
    summary: 'Create tenant',
    tag: 'tenants',
    body: createBody,
    status: 201,
    description: 'Created',
    response: 'Tenant',
    errors: [400, 409],
    handler: async ({ body, execute }) => {
      const data = await execute<{ createTenant: TenantNode }>(
        `mutation CreateTenant($input: CreateTenantInput!) { createTenant(input: $input) { ${TENANT_FIELDS} } }`,
        {
          input: {
            id: body.id,
            authorityBinding: body.authority_binding,
            jurisdiction: body.jurisdiction,
            classificationCeiling: body.classification_ceiling,
            policyBaseline: body.policy_baseline,
          },
        },
      );
      return tenantBody(data.createTenant);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/tenants',
    operationId: 'listTenants',
    summary: 'List tenants',
    tag: 'tenants',
    query: listQuery,
    status: 200,
    description: 'OK',
    response: 'TenantList',
    errors: [400],
    handler: async ({ query, execute }) => {
      const data = await execute<{ tenants: { items: TenantNode[]; nextCursor: string | null } }>(
        `query ListTenants($first: Int, $after: String) { tenants(first: $first, after: $after) { items { ${TENANT_FIELDS} } nextCursor } }`,
        { first: query.limit, after: query.cursor },
      );
      return page(data.tenants.items.map(tenantBody), data.tenants.nextCursor);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/tenants/:id',
    operationId: 'getTenant',
    summary: 'Get tenant',
    tag: 'tenants',
    status: 200,
    description: 'OK',
    response: 'Tenant',
    errors: [404],
    handler: async ({ params, execute }) => {
      const data = await execute<{ tenant: TenantNode | null }>(`query GetTenant($id: ID!) { tenant(id: $id) { ${TENANT_FIELDS} } }`, {
        id: params.id,
      });
      if (!data.tenant) throw new EcsError(ErrorCode.NotFound, `tenant ${String(params.id)} not found`);
      return tenantBody(data.tenant);
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/tenants/:id',
    operationId: 'updateTenant',
    summary: 'Update tenant',
    tag: 'tenants',
    body: updateBody,
    status: 200,
    description: 'Updated',
    response: 'Tenant',
    errors: [400, 404, 409],
    handler: async ({ body, params, execute }) => {
      if (body.id !== undefined && body.id !== params.id) {
        throw new EcsError(ErrorCode.BadRequest, 'id is immutable: it must be absent or equal to the path id', { field: 'id' });
      }
      if (body.status !== undefined) {
        const current = await execute<{ tenant: { status: string } | null }>(
          'query TenantStatus($id: ID!) { tenant(id: $id) { status } }',
          {
            id: params.id,
          },
        );
        if (!current.tenant) throw new EcsError(ErrorCode.NotFound, `tenant ${String(params.id)} not found`);
        if (current.tenant.status !== body.status) {
          throw new EcsError(ErrorCode.BadRequest, `status is ${current.tenant.status}: ${STATUS_CHANGES}`, { field: 'status' });
        }
      }
      const data = await execute<{ updateTenant: TenantNode }>(
        `mutation UpdateTenant($id: ID!, $input: UpdateTenantInput!) { updateTenant(id: $id, input: $input) { ${TENANT_FIELDS} } }`,
        {
          id: params.id,
          input: {
            authorityBinding: body.authority_binding,
            jurisdiction: body.jurisdiction,
            classificationCeiling: body.classification_ceiling,
            policyBaseline: body.policy_baseline,
          },
        },
      );
      return tenantBody(data.updateTenant);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/tenants/:id',
    operationId: 'deleteTenant',
    summary: 'Delete tenant',
    tag: 'tenants',
    status: 204,
    description: 'Deleted (status deleted, which is final; the evidence stays)',
    errors: [404, 409],
    handler: async ({ params, execute }) => {
      await execute(byId('deleteTenant', 'DeleteTenant').replace(TENANT_FIELDS, 'id'), { id: params.id });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/tenants/:id/suspend',
    operationId: 'suspendTenant',
    governs: { action: 'tenant.suspend', tenant: ({ params }) => params.id },
    summary: 'Suspend tenant',
    tag: 'tenants',
    status: 202,
    description: 'Suspension initiated',
    response: 'Tenant',
    errors: [400, 404, 409],
    handler: async ({ params, execute }) => {
      const data = await execute<{ suspendTenant: TenantNode }>(byId('suspendTenant', 'SuspendTenant'), { id: params.id });
      return tenantBody(data.suspendTenant);
    },
  }),
];
