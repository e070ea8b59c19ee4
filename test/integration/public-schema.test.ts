// The public GraphQL schema on a running stack: introspection of POST /graphql is the schema
// computed without a server (gateway/public-schema.ts, from which schema.released.graphql is
// written), Subscription included; graphql-codegen types a query, a mutation and a
// subscription from the live endpoint; and a subscription sent over HTTP, however it is sent,
// is a 400 pointing to the websocket and is never planned.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IntrospectionQuery } from 'graphql';
import { PUBLIC_INTROSPECTION_QUERY, printIntrospection, publicSchemaSdl } from '../../gateway/public-schema';
import { makeTempDir } from '../../testkit/temp-dir';
import { runCodegen } from '../support/codegen';
import { CREATE_TENANT, startTestStack } from '../support/test-stack';
import type { GraphQLResult, TestStack } from '../support/test-stack';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const TENANT_STATUS = 'query TenantStatus($id: ID!) { tenant(id: $id) { id status jurisdiction } }';
const AUDIT_FEED = `subscription AuditFeed($tenantId: ID, $afterSequence: Int) {
  auditEvents(tenantId: $tenantId, afterSequence: $afterSequence) { id eventType sequence outcome occurredAt prevHash details }
}`;
/** A subscription a client may send by id or by hash: it is in the deployment's manifest. */
const MANIFEST = {
  format: 'apollo-persisted-query-manifest',
  version: 1,
  operations: [{ id: sha256(AUDIT_FEED), name: 'AuditFeed', type: 'subscription', body: AUDIT_FEED }],
};

describe('the public GraphQL schema over HTTP', () => {
  let env: TestStack;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  const planned: string[] = [];

  beforeAll(async () => {
    dir = await makeTempDir();
    const manifest = path.join(dir.path, 'operations.json');
    await writeFile(manifest, JSON.stringify(MANIFEST));
    env = await startTestStack({
      // The default limits: the standard introspection query (15 levels deep) is bounded by its
      // shape, not the depth limit (gateway/introspection-shape.ts).
      env: { GRAPHQL_PERSISTED_MANIFEST: manifest },
      onQueryPlan: ({ operationContext }) => planned.push(operationContext.operation.operation),
    });
  });
  afterAll(async () => {
    await env?.stop();
    await dir?.remove();
  });

  async function post(body: Record<string, unknown>): Promise<GraphQLResult & { status: number }> {
    const response = await fetch(`${env.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { ...((await response.json()) as GraphQLResult), status: response.status };
  }

  it('introspection answers the public schema computed from the committed supergraph, Subscription included', async () => {
    const answer = await env.gql<IntrospectionQuery>(PUBLIC_INTROSPECTION_QUERY);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.__schema.subscriptionType?.name).toBe('Subscription');
    // So schema.released.graphql, written from the same computation, is what clients saw.
    expect(printIntrospection(answer.data!)).toBe(await publicSchemaSdl());
  });

  it('checklist 3: bounds introspection by its shape, not its depth: three nested lists, never a fourth, fragments followed', async () => {
    const nested = await post({ query: '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }' });
    expect([nested.status, nested.data ?? null, nested.errors?.[0]?.message]).toEqual([
      400,
      null,
      'introspection nests 4 lists; at most 3 (types, fields, args) are answered',
    ]);
    const viaFragments = await post({
      query:
        '{ __type(name: "Tenant") { ...A } } fragment A on __Type { fields { type { ...B } } } fragment B on __Type { fields { type { interfaces { fields { name } } } } }',
    });
    expect([viaFragments.status, viaFragments.errors?.[0]?.extensions?.code]).toEqual([400, 'ECS_BAD_REQUEST']);
    // Three lists and a long ofType chain, as the standard query has them, are answered.
    const three = await post({
      query: '{ __schema { types { fields { args { type { ofType { ofType { ofType { ofType { name } } } } } } } } } }',
    });
    expect([three.status, three.errors]).toEqual([200, undefined]);
  });

  it('graphql-codegen types a query, a mutation and a subscription from the live endpoint', async () => {
    const [output] = await runCodegen({
      schema: { [`${env.url}/graphql`]: { headers: { authorization: `Bearer ${env.adminToken}` } } },
      documents: [TENANT_STATUS, CREATE_TENANT, AUDIT_FEED],
      generates: {
        'operations.ts': {
          plugins: ['typescript', 'typescript-operations'],
          config: { enumsAsTypes: true, scalars: { DateTime: 'string', JSONObject: 'Record<string, unknown>' } },
        },
      },
      silent: true,
    });
    const code = output!.content;
    // One type per operation, each field typed from the live schema (enums as unions).
    for (const type of [
      'export type TenantStatusQuery = { tenant: { id: string, status: TenantStatus, jurisdiction: string } | null };',
      'export type CreateTenantMutation = { createTenant: { id: string, status: TenantStatus, jurisdiction: string, classificationCeiling: Classification } };',
      'export type AuditFeedSubscription = { auditEvents: { id: string, eventType: string, sequence: number, outcome: Outcome, occurredAt: string, prevHash: string | null, details: Record<string, unknown> } };',
    ]) {
      expect(code).toContain(type);
    }
    expect(code).toMatch(/export type TenantStatusQueryVariables = Exact<\{\s*id: string \| number;\s*\}>;/);
    expect(code).toMatch(/export type CreateTenantMutationVariables = Exact<\{\s*input: CreateTenantInput;\s*\}>;/);
    expect(code).toMatch(
      /export type AuditFeedSubscriptionVariables = Exact<\{\s*tenantId\?: string \| number \| null \| undefined;\s*afterSequence\?: number \| null \| undefined;\s*\}>;/,
    );
    expect(code).toMatch(/export type Outcome =\s*\| 'accepted'\s*\| 'failed'\s*\| 'refused';/);
  });

  it('a subscription over HTTP is a 400 pointing to the websocket however it is sent, and is never planned', async () => {
    planned.length = 0;
    const variables = { afterSequence: 0 };
    const sent: Array<[string, Record<string, unknown>]> = [
      ['as text', { query: AUDIT_FEED, variables }],
      ['by documentId', { documentId: sha256(AUDIT_FEED), variables }],
      ['by persisted-query hash', { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(AUDIT_FEED) } }, variables }],
    ];
    for (const [how, body] of sent) {
      const answer = await post(body);
      expect([how, answer.status, answer.errors?.[0]?.extensions?.code]).toEqual([how, 400, 'ECS_BAD_REQUEST']);
      expect(answer.errors![0]!.message).toMatch(/websocket at \/graphql/);
    }
    // Over GET Apollo refuses any operation but a query first (405, Allow: POST).
    const viaGet = await fetch(`${env.url}/graphql?documentId=${sha256(AUDIT_FEED)}`, {
      headers: { authorization: `Bearer ${env.adminToken}`, 'apollo-require-preflight': 'true' },
    });
    expect([viaGet.status, viaGet.headers.get('allow')]).toEqual([405, 'POST']);
    expect(planned).toEqual([]);
    // Queries are still planned and run.
    expect((await post({ query: '{ __typename tenants(first: 1) { items { id } } }' })).status).toBe(200);
    expect(planned).toEqual(['query']);
  });
});
