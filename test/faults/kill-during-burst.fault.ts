import { adminHeaders, killAllServerProcesses, startServerProcess } from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { createPostgresDatabase } from '../../testkit/test-database';
import { PINNED_IMAGE, uniqueId } from '../support/test-stack';

/**
 * Checklist 59: SIGKILL of the server in the middle of a burst of concurrent governed
 * actions (workload admissions and refusals, on two tenants). After a restart every
 * acknowledged action is there with its evidence event, every evidence event has its
 * action (an action whose reply was lost in the crash is either wholly there or wholly
 * absent), and every chain verifies. On the embedded database and on PostgreSQL.
 */
jest.setTimeout(300_000);

describe.each(['pglite', 'postgresql'] as const)('checklist 59: kill -9 during a burst of governed actions (%s)', (backend) => {
  let dataDir: { path: string; remove(): Promise<void> };
  let database: { databaseUrl: string; drop(): Promise<void> } | undefined;
  let server: StartedServer;

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-fault-kill-');
    if (backend === 'postgresql') database = await createPostgresDatabase();
  });
  afterAll(async () => {
    await killAllServerProcesses();
    await database?.drop();
    await dataDir?.remove();
  });

  it(`checklist 59: no acknowledged action lost, no evidence without its action, chains verify (${backend})`, async () => {
    const env = {
      DATA_DIR: dataDir.path,
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000',
      ...(database ? { DATABASE_URL: database.databaseUrl } : {}),
    };
    server = await startServerProcess({ env });
    const headers = { ...(await adminHeaders(dataDir.path)), 'content-type': 'application/json' };
    const tenants = [uniqueId('kill'), uniqueId('kill')];
    for (const id of tenants) {
      const created = await fetch(`${server.origin}/v1/tenants`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' }),
      });
      expect(created.status).toBe(201);
    }

    const acknowledged: Array<{ tenant: string; id: string }> = [];
    const refusedAcknowledged: string[] = [];
    let sent = 0;
    let stop = false;
    const worker = async (index: number) => {
      while (!stop) {
        const tenant = tenants[index % tenants.length]!;
        // Every fourth request asks for a jurisdiction outside the tenant: a refusal with evidence.
        const refused = sent % 4 === 3;
        sent += 1;
        try {
          const response = await fetch(`${server.origin}/v1/workloads`, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              tenant_id: tenant,
              envelope_type: 'container',
              image_ref: PINNED_IMAGE,
              jurisdiction: refused ? 'US' : 'DE',
            }),
          });
          const body = (await response.json()) as { id?: string; evidence_pointer?: string };
          if (response.status === 201 && body.id) acknowledged.push({ tenant, id: body.id });
          if (response.status === 403 && body.evidence_pointer) refusedAcknowledged.push(body.evidence_pointer);
        } catch {
          // the server died under this request: not acknowledged
        }
      }
    };
    const workers = Array.from({ length: 12 }, (_, index) => worker(index));
    const deadline = Date.now() + 30_000;
    while (acknowledged.length < 25 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await server.kill();
    stop = true;
    await Promise.all(workers);
    expect(acknowledged.length).toBeGreaterThanOrEqual(25);
    expect(refusedAcknowledged.length).toBeGreaterThan(0);

    server = await startServerProcess({ env });
    for (const tenant of tenants) {
      const listed = await fetch(`${server.origin}/v1/workloads?tenant=${tenant}&limit=1000`, { headers });
      expect(listed.status).toBe(200);
      const stored = new Set(((await listed.json()) as { items: Array<{ id: string }> }).items.map((w) => w.id));
      for (const { id } of acknowledged.filter((a) => a.tenant === tenant)) expect(stored.has(id)).toBe(true);

      const events = await fetch(`${server.origin}/v1/events?tenant=${tenant}&limit=1000`, { headers });
      const items = (
        (await events.json()) as { items: Array<{ event_type: string; outcome: string; sequence: number; evidence_pointer: string }> }
      ).items;
      // Sequences are gap-free from 1; one accepted admission event per stored workload.
      expect(items.map((event) => event.sequence)).toEqual(items.map((_, index) => index + 1));
      expect(items.filter((event) => event.event_type === 'workload.admit' && event.outcome === 'accepted')).toHaveLength(stored.size);

      const verify = await fetch(`${server.origin}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: 'query($t: ID!) { verifyChain(tenantId: $t) { valid checked } }', variables: { t: tenant } }),
      });
      const verified = ((await verify.json()) as { data: { verifyChain: { valid: boolean; checked: number } } }).data.verifyChain;
      expect(verified).toEqual({ valid: true, checked: items.length });
    }
    // Every refusal the clients saw is in a chain.
    const allPointers = new Set<string>();
    for (const tenant of tenants) {
      const events = await fetch(`${server.origin}/v1/events?tenant=${tenant}&outcome=refused&limit=1000`, { headers });
      for (const event of ((await events.json()) as { items: Array<{ evidence_pointer: string }> }).items)
        allPointers.add(event.evidence_pointer);
    }
    for (const pointer of refusedAcknowledged) expect(allPointers.has(pointer)).toBe(true);
    await server.stop('SIGTERM');
  });
});
