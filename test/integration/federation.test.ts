import type { QueryPlan } from '@apollo/query-planner';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

/** Names of the planes a query plan fetches from. */
function servicesOf(plan: QueryPlan): Set<string> {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record.kind === 'Fetch' && typeof record.serviceName === 'string') names.add(record.serviceName);
    for (const value of Object.values(record)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object') visit(value);
    }
  };
  visit(plan.node);
  return names;
}

describe('federated queries through the gateway', () => {
  let env: TestStack;
  const plans: QueryPlan[] = [];

  beforeAll(async () => {
    env = await startTestStack({ onQueryPlan: ({ queryPlan }) => plans.push(queryPlan) });
  });
  afterAll(() => env.stop());

  it('reads a tenant with its workloads and latest events in one query planned across planes', async () => {
    const id = uniqueId();
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(id) })).errors).toBeUndefined();
    const created = await env.gql<{ createWorkload: { id: string } }>(CREATE_WORKLOAD, {
      input: { tenantId: id, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
    });
    expect(created.errors).toBeUndefined();

    plans.length = 0;
    const result = await env.gql<{
      tenant: {
        id: string;
        jurisdiction: string;
        workloads: Array<{ id: string; tenant: { id: string; status: string } }>;
        events: Array<{ sequence: number; eventType: string }>;
      };
    }>(
      `query TenantOverview($id: ID!) {
        tenant(id: $id) {
          id jurisdiction
          workloads { id tenant { id status } }
          events(last: 10) { sequence eventType }
        }
      }`,
      { id },
    );
    expect(result.errors).toBeUndefined();
    const tenant = result.data!.tenant;
    expect(tenant.jurisdiction).toBe('DE');
    expect(tenant.workloads).toEqual([{ id: created.data!.createWorkload.id, tenant: { id, status: 'active' } }]);
    expect(tenant.events.map((event) => event.eventType)).toEqual(['workload.admit', 'tenant.create']);
    expect(tenant.events.map((event) => event.sequence)).toEqual([2, 1]);

    expect(plans).toHaveLength(1);
    const services = servicesOf(plans[0]!);
    expect([...services].sort()).toEqual(['audit', 'control', 'execution']);
  });

  it('resolves Workload.tenant through the control plane', async () => {
    const id = uniqueId();
    await env.gql(CREATE_TENANT, { input: tenantInput(id, { jurisdiction: 'FR' }) });
    const created = await env.gql<{ createWorkload: { id: string } }>(CREATE_WORKLOAD, {
      input: { tenantId: id, envelopeType: 'vm', imageRef: PINNED_IMAGE, jurisdiction: 'FR' },
    });
    plans.length = 0;
    const result = await env.gql<{ workload: { tenant: { id: string; jurisdiction: string } } }>(
      `query($id: ID!) { workload(id: $id) { envelopeType tenant { id jurisdiction } } }`,
      { id: created.data!.createWorkload.id },
    );
    expect(result.data!.workload.tenant).toEqual({ id, jurisdiction: 'FR' });
    expect([...servicesOf(plans[0]!)].sort()).toEqual(['control', 'execution']);
  });

  it('extends Tenant from every plane: buckets (data) and apiKeys (identity)', async () => {
    const id = uniqueId();
    await env.gql(CREATE_TENANT, { input: tenantInput(id) });
    const bucket = await env.gql(`mutation($input: CreateBucketInput!) { createBucket(input: $input) { name tenant { id } } }`, {
      input: { name: uniqueId('b'), tenantId: id, jurisdiction: 'DE', versioning: true },
    });
    expect(bucket.errors).toBeUndefined();
    plans.length = 0;
    const result = await env.gql<{ tenant: { buckets: Array<{ versioning: boolean }>; apiKeys: unknown[] } }>(
      `query($id: ID!) { tenant(id: $id) { id buckets { name versioning } apiKeys { id } } }`,
      { id },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.tenant.buckets).toHaveLength(1);
    expect(result.data!.tenant.buckets[0]!.versioning).toBe(true);
    expect(result.data!.tenant.apiKeys).toEqual([]);
    expect([...servicesOf(plans[0]!)].sort()).toEqual(['control', 'data', 'identity']);
  });

  it('returns null for an unknown tenant and a clear error for an unknown tenant in a mutation', async () => {
    const missing = await env.gql(`{ tenant(id: "does-not-exist") { id workloads { id } } }`);
    expect(missing.errors).toBeUndefined();
    expect(missing.data).toEqual({ tenant: null });

    const refused = await env.gql(CREATE_WORKLOAD, {
      input: { tenantId: 'does-not-exist', envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe('ECS_NOT_FOUND');
  });
});
