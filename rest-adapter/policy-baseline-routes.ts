import { z } from 'zod';
import { EcsError, ErrorCode } from '../lib/errors';
import { cursorParam, defineRoute, limitParam, page } from './route-table';
import type { RouteDef } from './route-table';

const BASELINE_FIELDS = 'name current { id } snapshots { id version issuer createdAt text } createdAt updatedAt';

interface BaselineNode {
  name: string;
  current: { id: string };
  snapshots: Array<{ id: string; version: number; issuer: string; createdAt: string; text: string }>;
  createdAt: string;
  updatedAt: string;
}

export function baselineBody(baseline: BaselineNode): Record<string, unknown> {
  return {
    id: baseline.name,
    name: baseline.name,
    current_snapshot_id: baseline.current.id,
    snapshots: baseline.snapshots.map((snapshot) => ({
      id: snapshot.id,
      version: snapshot.version,
      issuer: snapshot.issuer,
      created_at: snapshot.createdAt,
      text: snapshot.text,
    })),
    created_at: baseline.createdAt,
    updated_at: baseline.updatedAt,
  };
}

const publishBody = z.strictObject({ name: z.string(), text: z.string() });
const listQuery = z.strictObject({ cursor: cursorParam, limit: limitParam });

export const policyBaselineRoutes: RouteDef[] = [
  defineRoute({
    method: 'post',
    path: '/policy-baselines',
    operationId: 'publishPolicyBaseline',
    governs: { action: 'policy.manage' },
    summary: 'Create a policy baseline or publish a new snapshot of it',
    tag: 'policy',
    body: publishBody,
    status: 201,
    description: 'Published',
    response: 'PolicyBaseline',
    errors: [400],
    handler: async ({ body, execute }) => {
      const data = await execute<{ publishPolicyBaseline: BaselineNode }>(
        `mutation PublishPolicyBaseline($input: PublishPolicyBaselineInput!) { publishPolicyBaseline(input: $input) { ${BASELINE_FIELDS} } }`,
        { input: { name: body.name, text: body.text } },
      );
      return baselineBody(data.publishPolicyBaseline);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/policy-baselines',
    operationId: 'listPolicyBaselines',
    summary: 'List policy baselines',
    tag: 'policy',
    query: listQuery,
    status: 200,
    description: 'OK',
    response: 'PolicyBaselineList',
    errors: [400],
    handler: async ({ query, execute }) => {
      const data = await execute<{ policyBaselines: { items: BaselineNode[]; nextCursor: string | null } }>(
        `query ListPolicyBaselines($first: Int, $after: String) { policyBaselines(first: $first, after: $after) { items { ${BASELINE_FIELDS} } nextCursor } }`,
        { first: query.limit, after: query.cursor },
      );
      return page(data.policyBaselines.items.map(baselineBody), data.policyBaselines.nextCursor);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/policy-baselines/:id',
    operationId: 'getPolicyBaseline',
    summary: 'Get a policy baseline with its snapshots',
    tag: 'policy',
    status: 200,
    description: 'OK',
    response: 'PolicyBaseline',
    errors: [404],
    handler: async ({ params, execute }) => {
      const data = await execute<{ policyBaseline: BaselineNode | null }>(
        `query GetPolicyBaseline($name: ID!) { policyBaseline(name: $name) { ${BASELINE_FIELDS} } }`,
        { name: params.id },
      );
      if (!data.policyBaseline) throw new EcsError(ErrorCode.NotFound, `policy baseline ${String(params.id)} not found`);
      return baselineBody(data.policyBaseline);
    },
  }),
];
