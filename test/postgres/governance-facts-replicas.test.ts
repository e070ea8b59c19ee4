import { Client } from 'pg';
import { loadDevIssuer } from '../../lib/auth/dev-issuer';
import { createLogger } from '../../lib/logger';
import { startStack } from '../../app/stack';
import type { RunningStack } from '../../app/stack';
import { makeTempDir } from '../../testkit/temp-dir';
import { testConfig } from '../../testkit/test-config';
import { createPostgresDatabase } from '../../testkit/test-database';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, tenantInput, uniqueId } from '../support/test-stack';
import type { GraphQLResult } from '../support/test-stack';

// Two replicas on one PostgreSQL database, each remembering governance facts for far longer
// than the test runs: a change made through one replica, or written to the database while a
// replica's listening connection is cut, must reach the other at its next actions.

describe('remembered governance facts across two replicas on PostgreSQL', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const stacks: RunningStack[] = [];
  let adminToken: string;

  beforeAll(async () => {
    dir = await makeTempDir('ecs-facts-replicas-');
    database = await createPostgresDatabase();
    const config = testConfig({
      dataDir: dir.path,
      databaseUrl: database.databaseUrl,
      env: { RATE_LIMIT_PER_MINUTE: '100000', GOVERNANCE_FACTS_TTL_MS: '300000' },
    });
    for (let i = 0; i < 2; i += 1) stacks.push(await startStack(config, createLogger({ level: 'silent' })));
    const issuer = await loadDevIssuer(config.devIssuer.keyFile);
    adminToken = await issuer.mint({
      subject: 'platform-admin',
      roles: ['platform-admin'],
      audience: config.oidc.audience,
      ttlSeconds: 600,
    });
  });
  afterAll(async () => {
    for (const stack of stacks) await stack.stop();
    await database?.drop();
    await dir?.remove();
  });

  async function gql(stack: RunningStack, query: string, variables: Record<string, unknown>): Promise<GraphQLResult> {
    const response = await fetch(`${stack.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResult;
  }

  const admit = (stack: RunningStack, tenantId: string) =>
    gql(stack, CREATE_WORKLOAD, { input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' } });

  async function refusedWithin(stack: RunningStack, tenantId: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if ((await admit(stack, tenantId)).errors?.[0]?.extensions?.code === 'ECS_POLICY_DENIED') return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function rememberedTenant(stack: RunningStack): Promise<string> {
    const tenantId = uniqueId('rep-facts');
    expect((await gql(stack, CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    expect((await admit(stack, tenantId)).errors).toBeUndefined();
    const hits = stack.services.governanceFacts.stats.hits;
    expect((await admit(stack, tenantId)).errors).toBeUndefined();
    expect(stack.services.governanceFacts.stats.hits).toBeGreaterThan(hits);
    return tenantId;
  }

  it('a suspension made through one replica is seen by the other, which remembered the tenant as active', async () => {
    const [a, b] = stacks as [RunningStack, RunningStack];
    const tenantId = await rememberedTenant(b);
    expect((await gql(a, 'mutation($id: ID!) { suspendTenant(id: $id) { id } }', { id: tenantId })).errors).toBeUndefined();
    expect(await refusedWithin(b, tenantId, 5_000)).toBe(true);
  });

  it('a change written while the listening connections are cut is not missed: the replica forgets and listens again', async () => {
    const b = stacks[1]!;
    const tenantId = await rememberedTenant(b);
    const pg = new Client({ connectionString: database.databaseUrl });
    await pg.connect();
    try {
      const cut = await pg.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "ecs_governance_facts"'`,
      );
      expect(cut.rowCount).toBe(2);
      // Written at once, most likely before the listeners are back (they retry after 250 ms).
      await pg.query(`UPDATE control_tenants SET status = 'suspended' WHERE id = $1`, [tenantId]);
    } finally {
      await pg.end();
    }
    expect(await refusedWithin(b, tenantId, 5_000)).toBe(true);
    // Listening again, and remembering again.
    const deadline = Date.now() + 5_000;
    while (!b.services.governanceFacts.active && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b.services.governanceFacts.active).toBe(true);
  });
});
