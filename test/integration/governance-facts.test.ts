import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { GraphQLResult, TestStack } from '../support/test-stack';

// What a governed action checks first (the tenant's facts, the authority decision, the policy
// in force) is remembered per process (lib/subgraph/governance-facts-cache.ts). These tests
// show that no change is ever missed, and that a plane that stops answering still makes
// governed actions fail closed once what was remembered runs out.

const CREATE_BINDING = `mutation($i: CreateAuthorityBindingInput!) { createAuthorityBinding(input: $i) { id version } }`;
const DAY_MS = 24 * 3600 * 1000;

function admit(env: TestStack, tenantId: string): Promise<GraphQLResult<{ createWorkload: { id: string } }>> {
  return env.gql(CREATE_WORKLOAD, { input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' } });
}

/** The refusal code of the newest refused event in the tenant's chain. */
async function lastRefusalCode(env: TestStack, tenantId: string): Promise<string | undefined> {
  const [event] = await env.stack.services.db.prisma.evidenceEvent.findMany({
    where: { tenantId, outcome: 'refused' },
    orderBy: { sequence: 'desc' },
    take: 1,
  });
  return event ? (JSON.parse(event.canonical) as { refusal_reason_code?: string }).refusal_reason_code : undefined;
}

async function binding(env: TestStack, id: string, scopes: string[]): Promise<void> {
  const result = await env.gql(CREATE_BINDING, {
    i: {
      id,
      subject: 'facts-test',
      scopes,
      issuer: 'urn:facts-test',
      validFrom: new Date(Date.now() - DAY_MS).toISOString(),
      validUntil: new Date(Date.now() + DAY_MS).toISOString(),
      proofRef: 'doc:facts-test',
    },
  });
  expect(result.errors).toBeUndefined();
}

async function tenantWithBinding(env: TestStack): Promise<string> {
  const bindingId = uniqueId('auth');
  await binding(env, bindingId, ['*']);
  const id = uniqueId('facts');
  expect((await env.gql(CREATE_TENANT, { input: tenantInput(id, { authorityBinding: bindingId }) })).errors).toBeUndefined();
  return id;
}

describe('remembered governance facts, with a lifetime far longer than the test', () => {
  let env: TestStack;

  beforeAll(async () => {
    env = await startTestStack({ env: { GOVERNANCE_FACTS_TTL_MS: '300000' } });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('asks the other planes once for repeated actions on one tenant', async () => {
    const tenantId = await tenantWithBinding(env);
    expect((await admit(env, tenantId)).errors).toBeUndefined();
    const before = env.stack.services.governanceFacts.stats;
    for (let i = 0; i < 3; i++) expect((await admit(env, tenantId)).errors).toBeUndefined();
    const after = env.stack.services.governanceFacts.stats;
    // Each admission needs the tenant, the authority decision and the policy: all remembered.
    expect(after.misses).toBe(before.misses);
    expect(after.hits - before.hits).toBe(9);
  });

  it('sees a suspension, a resumption and a narrower authority binding made through the API at the next action', async () => {
    const tenantId = await tenantWithBinding(env);
    expect((await admit(env, tenantId)).errors).toBeUndefined();

    expect((await env.gql('mutation($id: ID!) { suspendTenant(id: $id) { id } }', { id: tenantId })).errors).toBeUndefined();
    expect((await admit(env, tenantId)).errors?.[0]?.extensions?.code).toBe('ECS_POLICY_DENIED');
    expect(await lastRefusalCode(env, tenantId)).toBe('tenant_suspended');

    expect((await env.gql('mutation($id: ID!) { resumeTenant(id: $id) { id } }', { id: tenantId })).errors).toBeUndefined();
    expect((await admit(env, tenantId)).errors).toBeUndefined();

    const tenant = await env.stack.services.db.prisma.tenant.findUniqueOrThrow({ where: { id: tenantId } });
    await binding(env, tenant.authorityBinding, ['tenant.create']);
    expect((await admit(env, tenantId)).errors?.[0]?.extensions?.code).toBeDefined();
    expect(await lastRefusalCode(env, tenantId)).toBe('action_outside_authority_scope');
  });

  it('hears a change written to the database by another process, through the database’s announcement', async () => {
    const tenantId = await tenantWithBinding(env);
    expect((await admit(env, tenantId)).errors).toBeUndefined();
    expect((await admit(env, tenantId)).errors).toBeUndefined();
    // Not through this process's code: only the trigger's NOTIFY can tell the cache.
    await env.stack.services.db.prisma.$executeRaw`UPDATE control_tenants SET status = 'suspended' WHERE id = ${tenantId}`;
    const deadline = Date.now() + 5_000;
    let refused = false;
    while (!refused && Date.now() < deadline) {
      refused = (await admit(env, tenantId)).errors?.[0]?.extensions?.code === 'ECS_POLICY_DENIED';
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refused).toBe(true);
    expect(await lastRefusalCode(env, tenantId)).toBe('tenant_suspended');
  });
});

describe('remembered governance facts when the control plane stops answering', () => {
  const TTL_MS = 1_500;
  let env: TestStack;

  beforeAll(async () => {
    env = await startTestStack({ env: { GOVERNANCE_FACTS_TTL_MS: String(TTL_MS) } });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('checklist 61: goes on with what it remembers for at most its lifetime, then fails closed with refusal evidence', async () => {
    const tenantId = await tenantWithBinding(env);
    expect((await admit(env, tenantId)).errors).toBeUndefined();
    const remembered = Date.now();
    await env.stack.subgraphs.control.close();

    const within = await admit(env, tenantId);
    if (Date.now() - remembered < TTL_MS) expect(within.errors).toBeUndefined();

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, remembered + TTL_MS + 100 - Date.now())));
    const after = await admit(env, tenantId);
    expect(after.errors?.[0]?.extensions).toMatchObject({ code: 'ECS_DEPENDENCY_UNAVAILABLE', evidence_pointer: expect.any(String) });
    expect(await lastRefusalCode(env, tenantId)).toBe('control_plane_unavailable');
  });
});
