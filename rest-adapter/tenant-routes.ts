import type { Request, Response } from 'express';
import { EcsError, ErrorCode } from '../lib/errors';
import type { RestContext } from './rest-router';

const TENANT_FIELDS = 'id authorityBinding jurisdiction classificationCeiling policyBaseline status createdAt updatedAt';

interface TenantNode {
  id: string;
  authorityBinding: string;
  jurisdiction: string;
  classificationCeiling: string;
  policyBaseline: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

/** The spec's snake_case Tenant body. */
export function tenantBody(tenant: TenantNode): Record<string, string> {
  return {
    id: tenant.id,
    authority_binding: tenant.authorityBinding,
    jurisdiction: tenant.jurisdiction,
    classification_ceiling: tenant.classificationCeiling,
    policy_baseline: tenant.policyBaseline,
    status: tenant.status,
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
  };
}

export async function getTenantRoute(rest: RestContext, req: Request, res: Response): Promise<void> {
  const data = await rest.execute<{ tenant: TenantNode | null }>(
    req,
    res,
    `query GetTenant($id: ID!) { tenant(id: $id) { ${TENANT_FIELDS} } }`,
    { id: req.params.id },
  );
  if (!data.tenant) throw new EcsError(ErrorCode.NotFound, `tenant ${String(req.params.id)} not found`);
  res.json(tenantBody(data.tenant));
}

export async function listTenantsRoute(rest: RestContext, req: Request, res: Response): Promise<void> {
  const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
  const data = await rest.execute<{ tenants: { items: TenantNode[]; nextCursor: string | null } }>(
    req,
    res,
    `query ListTenants($first: Int, $after: String) { tenants(first: $first, after: $after) { items { ${TENANT_FIELDS} } nextCursor } }`,
    { first: limit, after: typeof req.query.cursor === 'string' ? req.query.cursor : undefined },
  );
  res.json({
    items: data.tenants.items.map(tenantBody),
    ...(data.tenants.nextCursor ? { next_cursor: data.tenants.nextCursor } : {}),
  });
}

export async function createTenantRoute(rest: RestContext, req: Request, res: Response): Promise<void> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const data = await rest.execute<{ createTenant: TenantNode }>(
    req,
    res,
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
  res.status(201).json(tenantBody(data.createTenant));
}
