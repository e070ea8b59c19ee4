import WebSocket from 'ws';
import { exportAndWait } from '../support/export-client';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

/** The operator's metrics on `/metrics`, and who may read them. */
let env: TestStack;
let tenant: string;

beforeAll(async () => {
  env = await startTestStack();
  tenant = uniqueId('metrics');
  expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
  const workload = await env.gql(CREATE_WORKLOAD, {
    input: { tenantId: tenant, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
  });
  expect(workload.errors).toBeUndefined();
});

afterAll(() => env?.stop());

const ZERO_ID = '00000000-0000-0000-0000-000000000000';

async function scrape(headers: Record<string, string> = { authorization: `Bearer ${env.adminToken}` }): Promise<string> {
  const response = await fetch(`${env.url}/metrics`, { headers });
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one sample, `name{labels} value`, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('operator metrics', () => {
  it('counts and times GraphQL operations by name, type and outcome', async () => {
    await env.gql('query MetricsProbe { __typename }');
    await env.gql('query { __typename }');
    const text = await scrape();
    expect(sample(text, 'ecs_graphql_operations_total', { operation: 'CreateTenant', type: 'mutation', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'ecs_graphql_operations_total', { operation: 'MetricsProbe', type: 'query', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'ecs_graphql_operations_total', { operation: 'anonymous', type: 'query' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ecs_graphql_operation_duration_seconds_count', { operation: 'CreateWorkload', type: 'mutation' })).toBe(1);
  });

  it('times every call to a plane and counts the failed ones', async () => {
    // A plane's answer with GraphQL errors (here: another tenant's auditor refused) counts as
    // a failed call: the gateway cannot tell a caller's mistake from a plane's fault by the answer.
    const outsider = await env.token('auditor', uniqueId('other'));
    const refused = await env.gqlAs(outsider, 'query($id: ID!) { tenant(id: $id) { id } }', { id: tenant });
    expect(refused.errors?.[0]?.extensions?.code).toBe('ECS_FORBIDDEN');
    const text = await scrape();
    for (const subgraph of ['control', 'execution']) {
      expect(sample(text, 'ecs_subgraph_fetch_duration_seconds_count', { subgraph, outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    }
    expect(sample(text, 'ecs_subgraph_fetch_errors_total', { subgraph: 'control', outcome: 'graphql_errors' })).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'ecs_subgraph_fetch_duration_seconds_count', { subgraph: 'control', outcome: 'graphql_errors' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts evidence appends, their duration and their wait for the chain', async () => {
    const text = await scrape();
    // The tenant's creation and the workload's admission at least.
    expect(sample(text, 'ecs_evidence_appends_total', { outcome: 'committed' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'ecs_evidence_append_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'ecs_evidence_lock_wait_seconds_count')).toBeGreaterThanOrEqual(2);
  });

  it('counts the evidence a refusal appends in a statement of its own', async () => {
    const before = await scrape();
    const auditor = await env.token('auditor', tenant);
    expect((await fetch(`${env.url}/metrics`, { headers: { authorization: `Bearer ${auditor}` } })).status).toBe(403);
    const after = await scrape();
    for (const [name, labels] of [
      ['ecs_evidence_appends_total', { outcome: 'committed' }],
      ['ecs_evidence_append_duration_seconds_count', {}],
      ['ecs_evidence_lock_wait_seconds_count', {}],
    ] as const) {
      expect(sample(after, name, labels)).toBeGreaterThanOrEqual((sample(before, name, labels) ?? 0) + 1);
    }
  });

  it('counts subscription connections and closes by reason', async () => {
    const socket = new WebSocket(`${env.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    expect(sample(await scrape(), 'ecs_subscription_connections')).toBe(1);
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-token' } }));
    expect(await closed).toBe(4401);

    const deadline = Date.now() + 5_000;
    let text = await scrape();
    while (sample(text, 'ecs_subscription_connections') !== 0 && Date.now() < deadline) text = await scrape();
    expect(sample(text, 'ecs_subscription_connections')).toBe(0);
    expect(sample(text, 'ecs_subscriptions_closed_total', { reason: 'unauthenticated' })).toBe(1);
    expect(sample(text, 'ecs_subscription_buffered_bytes')).toBe(0);
  });

  it('counts and times export jobs', async () => {
    const auditor = await env.token('auditor', tenant);
    expect(await exportAndWait(env, auditor, { evidence_profile_id: 'ecs-evidence-baseline' })).toMatchObject({ state: 'completed' });
    const text = await scrape();
    expect(sample(text, 'ecs_export_jobs_running')).toBe(0);
    expect(sample(text, 'ecs_export_jobs_total', { outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ecs_export_job_duration_seconds_count', { outcome: 'completed' })).toBeGreaterThanOrEqual(1);
  });
});

describe('the metrics.read scope', () => {
  const CREATE_KEY = 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }';

  it('lets a platform administrator give an API key that reads /metrics and nothing else', async () => {
    const created = await env.gql<{ createApiKey: { secret: string } }>(CREATE_KEY, {
      i: { tenantId: tenant, name: 'prometheus', scopes: ['metrics.read'] },
    });
    expect(created.errors).toBeUndefined();
    const apiKey = created.data!.createApiKey.secret;
    expect(await scrape({ 'x-api-key': apiKey })).toContain('ecs_graphql_operations_total');
    const other = await env.gqlAs({ apiKey }, `query($id: ID!) { tenant(id: $id) { id } }`, { id: tenant });
    expect(other.errors?.[0]?.extensions?.code).toBe('ECS_FORBIDDEN');
  });

  it('is not a tenant administrator’s to give, and other keys and roles are refused', async () => {
    const admin = await env.token('tenant-admin', tenant);
    const refused = await env.gqlAs(admin, CREATE_KEY, { i: { tenantId: tenant, name: 'sneaky', scopes: ['metrics.read'] } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('ECS_FORBIDDEN');

    const plain = await env.gqlAs<{ createApiKey: { secret: string } }>(admin, CREATE_KEY, {
      i: { tenantId: tenant, name: 'reader', scopes: ['workload.read'] },
    });
    expect(plain.errors).toBeUndefined();
    const keyRead = await fetch(`${env.url}/metrics`, { headers: { 'x-api-key': plain.data!.createApiKey.secret } });
    expect(keyRead.status).toBe(403);
    const tenantAdminRead = await fetch(`${env.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } });
    expect(tenantAdminRead.status).toBe(403);
  });
});

// Last: the audit plane stays closed.
describe('a plane that stops answering', () => {
  it('counts the calls that did not reach it', async () => {
    await env.stack.subgraphs.audit.close();
    const failed = await env.gql(`{ event(id: "${ZERO_ID}") { id } }`);
    expect(failed.errors?.[0]?.extensions?.code).toBe('ECS_DEPENDENCY_UNAVAILABLE');
    expect(sample(await scrape(), 'ecs_subgraph_fetch_errors_total', { subgraph: 'audit', outcome: 'unreachable' })).toBeGreaterThanOrEqual(
      1,
    );
  });
});
