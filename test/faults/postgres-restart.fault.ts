import { adminHeaders, killAllServerProcesses, startServerProcess } from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { startPrivatePostgres } from '../support/private-postgres';
import type { PrivatePostgres } from '../support/private-postgres';
import { makeTempDir } from '../../testkit/temp-dir';
import { PINNED_IMAGE, uniqueId } from '../support/test-stack';

/**
 * Checklist 60: the PostgreSQL server goes away under load and comes back. The service
 * answers fast with 503 and the error body while it is down, recovers by itself, and
 * leaves no half-written action: every acknowledged workload has its evidence, every
 * evidence event its workload, and the chain verifies. The database is a private cluster
 * started by the test, so the shared server is never disturbed.
 */
jest.setTimeout(240_000);

interface Outcome {
  at: number;
  ms: number;
  status: number;
  body: Record<string, unknown>;
  kind: 'admit' | 'read';
}

describe('checklist 60: PostgreSQL restarted during load', () => {
  let pg: PrivatePostgres;
  let dataDir: { path: string; remove(): Promise<void> };
  let server: StartedServer;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    dataDir = await makeTempDir('ecs-fault-pg-');
  });
  afterAll(async () => {
    await killAllServerProcesses();
    pg?.destroy();
    await dataDir?.remove();
  });

  it('checklist 60: fast 503s with the error body while it is down, recovery without a restart, no partial writes', async () => {
    server = await startServerProcess({
      env: { DATA_DIR: dataDir.path, DATABASE_URL: pg.url, RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000' },
    });
    const headers = { ...(await adminHeaders(dataDir.path)), 'content-type': 'application/json' };
    const tenantId = uniqueId('pg');
    const created = await fetch(`${server.origin}/v1/tenants`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id: tenantId, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' }),
    });
    expect(created.status).toBe(201);

    const outcomes: Outcome[] = [];
    let running = true;
    const call = async (kind: Outcome['kind']) => {
      const started = Date.now();
      let status = 0;
      let body: Record<string, unknown> = {};
      try {
        const response =
          kind === 'admit'
            ? await fetch(`${server.origin}/v1/workloads`, {
                method: 'POST',
                headers,
                body: JSON.stringify({ tenant_id: tenantId, envelope_type: 'container', image_ref: PINNED_IMAGE, jurisdiction: 'DE' }),
                signal: AbortSignal.timeout(60_000),
              })
            : await fetch(`${server.origin}/v1/tenants/${tenantId}`, { headers, signal: AbortSignal.timeout(60_000) });
        status = response.status;
        body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      } catch {
        status = -1;
      }
      outcomes.push({ at: started, ms: Date.now() - started, status, body, kind });
    };
    const worker = async (kind: Outcome['kind']) => {
      while (running) {
        await call(kind);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const workers = [worker('admit'), worker('admit'), worker('read'), worker('read')];

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const downAt = Date.now();
    pg.stop('fast');
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    pg.start();
    const upAt = Date.now();
    // Load continues until both kinds of request succeed again (or 60 s pass).
    const deadline = Date.now() + 60_000;
    const recovered = () =>
      (['admit', 'read'] as const).every((kind) =>
        outcomes.some((o) => o.kind === kind && o.at > upAt && o.status >= 200 && o.status < 300),
      );
    while (!recovered() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    running = false;
    await Promise.all(workers);

    expect(recovered()).toBe(true);
    const recoveredAt = Math.min(...outcomes.filter((o) => o.at > upAt && o.status < 300 && o.status >= 200).map((o) => o.at));
    // While the database was away: answers, not hangs; 503 with the error body.
    const duringOutage = outcomes.filter((o) => o.at > downAt + 500 && o.at + o.ms < upAt);
    expect(duringOutage.length).toBeGreaterThan(4);
    for (const outcome of duringOutage) {
      expect([outcome.kind, outcome.status, outcome.body.code]).toEqual([outcome.kind, 503, expect.stringMatching(/^ECS_/)]);
      expect(typeof outcome.body.message).toBe('string');
      expect(JSON.stringify(outcome.body)).not.toMatch(/prisma|ECONNREFUSED|at \w+ \(|\.ts:\d+/i);
      expect(outcome.ms).toBeLessThan(12_000);
    }
    expect(recoveredAt - upAt).toBeLessThan(30_000);

    // No partial writes: acknowledged workloads, stored workloads and their evidence agree.
    const acknowledged = outcomes.filter((o) => o.kind === 'admit' && o.status === 201).map((o) => String(o.body.id));
    expect(acknowledged.length).toBeGreaterThan(0);
    const listed = await fetch(`${server.origin}/v1/workloads?tenant=${tenantId}&limit=1000`, { headers });
    const workloads = ((await listed.json()) as { items: Array<{ id: string }> }).items.map((w) => w.id);
    for (const id of acknowledged) expect(workloads).toContain(id);
    const events = await fetch(`${server.origin}/v1/events?tenant=${tenantId}&event_type=workload.admit&outcome=accepted&limit=1000`, {
      headers,
    });
    const admitted = ((await events.json()) as { items: Array<{ details?: Record<string, unknown>; subject?: unknown }> }).items;
    expect(admitted).toHaveLength(workloads.length);
    const verify = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: 'query($t: ID!) { verifyChain(tenantId: $t) { valid checked } }', variables: { t: tenantId } }),
    });
    expect(((await verify.json()) as { data: { verifyChain: { valid: boolean } } }).data.verifyChain.valid).toBe(true);
    const readyz = await fetch(`${server.origin}/readyz`);
    expect(readyz.status).toBe(200);
    await server.stop('SIGTERM');
  });
});
