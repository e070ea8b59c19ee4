import { z } from 'zod';
import { timestampField } from '../lib/domain/timestamp';
import { EcsError, ErrorCode } from '../lib/errors';
import { cursorParam, defineRoute, limitParam, page } from './route-table';
import type { RouteDef } from './route-table';

const VERSION_FIELDS = 'version snapshotId subject scopes issuer validFrom validUntil proofRef createdBy createdAt';
const BINDING_FIELDS = `id ${VERSION_FIELDS}`;

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

const createBody = z.strictObject({
  id: z.string(),
  subject: z.string(),
  scope: z.array(z.string()),
  issuer: z.string(),
  valid_from: timestampField,
  valid_until: timestampField,
  proof_ref: z.string().optional(),
});
const listQuery = z.strictObject({ cursor: cursorParam, limit: limitParam });

export const authorityBindingRoutes: RouteDef[] = [
  defineRoute({
    method: 'post',
    path: '/authority-bindings',
    operationId: 'createAuthorityBinding',
    governs: { action: 'authority.manage' },
    summary: 'Create an authority binding, or a new version of one',
    tag: 'identity',
    body: createBody,
    status: 201,
    description: 'Created',
    response: 'AuthorityBinding',
    errors: [400],
    handler: async ({ body, execute }) => {
      const data = await execute<{ createAuthorityBinding: BindingNode }>(
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
      return bindingBody(data.createAuthorityBinding);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/authority-bindings',
    operationId: 'listAuthorityBindings',
    summary: 'List authority bindings (newest version of each)',
    tag: 'identity',
    query: listQuery,
    status: 200,
    description: 'OK',
    response: 'AuthorityBindingList',
    errors: [400],
    handler: async ({ query, execute }) => {
      const data = await execute<{ authorityBindings: { items: BindingNode[]; nextCursor: string | null } }>(
        `query ListAuthorityBindings($first: Int, $after: String) { authorityBindings(first: $first, after: $after) { items { ${BINDING_FIELDS} } nextCursor } }`,
        { first: query.limit, after: query.cursor },
      );
      return page(data.authorityBindings.items.map(bindingBody), data.authorityBindings.nextCursor);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/authority-bindings/:id',
    operationId: 'getAuthorityBinding',
    summary: 'Get an authority binding with all its versions',
    tag: 'identity',
    status: 200,
    description: 'OK',
    response: 'AuthorityBinding',
    errors: [404],
    handler: async ({ params, execute }) => {
      const data = await execute<{ authorityBinding: BindingNode | null }>(
        `query GetAuthorityBinding($id: ID!) { authorityBinding(id: $id) { ${BINDING_FIELDS} versions { ${VERSION_FIELDS} } } }`,
        { id: params.id },
      );
      if (!data.authorityBinding) throw new EcsError(ErrorCode.NotFound, `authority binding ${String(params.id)} not found`);
      return bindingBody(data.authorityBinding);
    },
  }),
];
