import type { Request, Response } from 'express';
import { EcsError, ErrorCode } from '../lib/errors';
import type { RestContext } from './rest-router';

const BINDING_FIELDS = 'id version snapshotId subject scopes issuer validFrom validUntil proofRef createdBy createdAt';

interface BindingNode {
  id: string;
  version: number;
  snapshotId: string;
  subject: string;
  scopes: string[];
  issuer: string;
  validFrom: string;
  validUntil: string;
  proofRef: string | null;
  createdBy: string;
  createdAt: string;
  versions?: Array<Omit<BindingNode, 'id' | 'versions'>>;
}

function versionBody(node: Omit<BindingNode, 'id' | 'versions'>): Record<string, unknown> {
  return {
    version: node.version,
    authority_snapshot_id: node.snapshotId,
    subject: node.subject,
    scope: node.scopes,
    issuer: node.issuer,
    valid_from: node.validFrom,
    valid_until: node.validUntil,
    proof_ref: node.proofRef,
    created_by: node.createdBy,
    created_at: node.createdAt,
  };
}

/** The snake_case body of an authority binding (newest version, and all versions when read singly). */
export function bindingBody(node: BindingNode): Record<string, unknown> {
  return {
    id: node.id,
    ...versionBody(node),
    ...(node.versions ? { versions: node.versions.map(versionBody) } : {}),
  };
}

export async function createBindingRoute(rest: RestContext, req: Request, res: Response): Promise<void> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const data = await rest.execute<{ createAuthorityBinding: BindingNode }>(
    req,
    res,
    `mutation CreateAuthorityBinding($input: CreateAuthorityBindingInput!) { createAuthorityBinding(input: $input) { ${BINDING_FIELDS} } }`,
    {
      input: {
        id: body.id,
        subject: body.subject,
        scopes: body.scope,
        issuer: body.issuer,
        validFrom: body.valid_from,
        validUntil: body.valid_until,
        proofRef: body.proof_ref,
      },
    },
  );
  res.status(201).json(bindingBody(data.createAuthorityBinding));
}

export async function listBindingsRoute(rest: RestContext, req: Request, res: Response): Promise<void> {
  const data = await rest.execute<{ authorityBindings: { items: BindingNode[]; nextCursor: string | null } }>(
    req,
    res,
    `query ListAuthorityBindings($first: Int, $after: String) { authorityBindings(first: $first, after: $after) { items { ${BINDING_FIELDS} } nextCursor } }`,
    { first: req.query.limit === undefined ? undefined : Number(req.query.limit), after: typeof req.query.cursor === 'string' ? req.query.cursor : undefined },
  );
  res.json({
    items: data.authorityBindings.items.map(bindingBody),
    ...(data.authorityBindings.nextCursor ? { next_cursor: data.authorityBindings.nextCursor } : {}),
  });
}

export async function getBindingRoute(rest: RestContext, req: Request, res: Response): Promise<void> {
  const data = await rest.execute<{ authorityBinding: BindingNode | null }>(
    req,
    res,
    `query GetAuthorityBinding($id: ID!) { authorityBinding(id: $id) { ${BINDING_FIELDS} versions { version snapshotId subject scopes issuer validFrom validUntil proofRef createdBy createdAt } } }`,
    { id: req.params.id },
  );
  if (!data.authorityBinding) throw new EcsError(ErrorCode.NotFound, `authority binding ${String(req.params.id)} not found`);
  res.json(bindingBody(data.authorityBinding));
}
