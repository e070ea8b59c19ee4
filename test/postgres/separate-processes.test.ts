import { PLANES } from '../../lib/config/config';
import type { Plane } from '../../lib/config/config';
import {
  expectExitCode,
  freePorts,
  killAllServerProcesses,
  pollReadyz,
  adminHeaders,
  postGraphQL,
  startServerProcess,
} from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { createPostgresDatabase } from '../../testkit/test-database';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, tenantInput, uniqueId } from '../support/test-stack';

/**
 * `npm run start:subgraph -- <plane>` five times and `npm run start:gateway` (twice, as
 * replicas): six real processes sharing one PostgreSQL database and the development PKI
 * under one DATA_DIR, the gateway reaching the planes through SUBGRAPH_URLS.
 */
jest.setTimeout(60_000);

const TENANT_OVERVIEW = `query TenantOverview($id: ID!) {
  tenant(id: $id) {
    id jurisdiction
    workloads { id tenant { id status } }
    events(last: 10) { sequence eventType }
  }
}`;

interface TenantOverview {
  tenant: {
    id: string;
    jurisdiction: string;
    workloads: Array<{ id: string; tenant: { id: string; status: string } }>;
    events: Array<{ sequence: number; eventType: string }>;
  } | null;
}

/** The plane stopped abruptly to see the gateway report it. */
const KILLED_PLANE: Plane = 'audit';

describe('gateway and five subgraphs as separate processes on PostgreSQL', () => {
  let dataDir: { path: string; remove(): Promise<void> };
  let database: { databaseUrl: string; drop(): Promise<void> };
  const ports = new Map<Plane, number>();
  const subgraphs = new Map<Plane, StartedServer>();
  let subgraphUrls: string;
  let gateway: StartedServer;
  let replica: StartedServer | undefined;
  const tenantId = uniqueId('procs');
  let workloadId: string | undefined;

  const env = (extra: Record<string, string>): Record<string, string> => ({
    DATA_DIR: dataDir.path,
    DATABASE_URL: database.databaseUrl,
    SUBGRAPH_URLS: subgraphUrls,
    ...extra,
  });
  const startSubgraph = async (plane: Plane): Promise<void> => {
    subgraphs.set(plane, await startServerProcess({ args: ['subgraph', plane], env: env({ SUBGRAPH_PORT: String(ports.get(plane)) }) }));
  };

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-procs-');
    database = await createPostgresDatabase();
    const free = await freePorts(PLANES.length);
    PLANES.forEach((plane, index) => {
      ports.set(plane, free[index]!);
    });
    // The planes call each other too (execution asks control whether a tenant exists).
    subgraphUrls = PLANES.map((plane) => `${plane}=https://127.0.0.1:${ports.get(plane)}/graphql`).join(',');
    // The first one creates the development PKI and applies the migrations; the rest find both.
    const [first, ...rest] = PLANES;
    await startSubgraph(first);
    await Promise.all(rest.map(startSubgraph));
    gateway = await startServerProcess({ args: ['gateway'], env: env({}) });
  }, 150_000);

  afterAll(async () => {
    await killAllServerProcesses();
    await database?.drop();
    await dataDir?.remove();
  });

  it('each plane listens on its SUBGRAPH_PORT with mutual TLS, and the gateway prints its URLs', () => {
    for (const plane of PLANES) {
      const subgraph = subgraphs.get(plane)!;
      expect(subgraph.url).toBe(`https://127.0.0.1:${ports.get(plane)}/graphql`);
      expect(subgraph.stdout()).toContain(`ECS ${plane} plane listening on ${subgraph.url} (mutual TLS)`);
    }
    expect(gateway.stdout()).toMatch(/^ECS Gateway ready in \d+ ms \(database: postgresql\)$/m);
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
  });

  it('is ready: /readyz answers 200 with no reasons', async () => {
    const readyz = await pollReadyz(gateway.origin, Date.now() + 20_000);
    expect(readyz).toMatchObject({ status: 200, body: { status: 'ready', reasons: [] } });
  });

  it('answers a query planned across control, execution and audit', async () => {
    const tenant = await postGraphQL(gateway.origin, CREATE_TENANT, { input: tenantInput(tenantId) }, await adminHeaders(dataDir.path));
    expect(tenant.body.errors).toBeUndefined();
    const workload = await postGraphQL<{ createWorkload: { id: string } }>(
      gateway.origin,
      CREATE_WORKLOAD,
      {
        input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
      },
      await adminHeaders(dataDir.path),
    );
    expect(workload.body.errors).toBeUndefined();
    workloadId = workload.body.data!.createWorkload.id;

    const result = await postGraphQL<TenantOverview>(gateway.origin, TENANT_OVERVIEW, { id: tenantId }, await adminHeaders(dataDir.path));
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data!.tenant).toEqual({
      id: tenantId,
      jurisdiction: 'DE',
      workloads: [{ id: workloadId, tenant: { id: tenantId, status: 'active' } }],
      events: [
        { sequence: 2, eventType: 'workload.admit' },
        { sequence: 1, eventType: 'tenant.create' },
      ],
    });
  });

  it('serves the same data from a second gateway replica, which stops on SIGTERM with exit code 0', async () => {
    expect(workloadId).toBeDefined();
    replica = await startServerProcess({ args: ['gateway'], env: env({}) });
    expect(replica.origin).not.toBe(gateway.origin);
    expect((await pollReadyz(replica.origin, Date.now() + 20_000)).status).toBe(200);

    const headers = await adminHeaders(dataDir.path);
    const [fromFirst, fromReplica] = await Promise.all(
      [gateway, replica].map((server) => postGraphQL<TenantOverview>(server.origin, TENANT_OVERVIEW, { id: tenantId }, headers)),
    );
    expect(fromReplica!.body.errors).toBeUndefined();
    expect(fromReplica!.body.data!.tenant!.workloads.map((w) => w.id)).toEqual([workloadId]);
    expect(fromReplica!.body).toEqual(fromFirst!.body);

    expectExitCode(await replica.stop('SIGTERM'), 0, replica);
    // The first gateway is unaffected.
    expect((await postGraphQL(gateway.origin, '{ __typename }', undefined, await adminHeaders(dataDir.path))).body).toEqual({
      data: { __typename: 'Query' },
    });
  });

  it(`answers /readyz with 503 naming the ${KILLED_PLANE} plane once that process is killed`, async () => {
    await subgraphs.get(KILLED_PLANE)!.kill();
    const readyz = await pollReadyz(gateway.origin, Date.now());
    expect(readyz.status).toBe(503);
    expect(readyz.body!.status).toBe('unavailable');
    expect(readyz.body!.reasons).toEqual([expect.stringMatching(new RegExp(`^${KILLED_PLANE} plane: `))]);

    // What does not touch that plane still works.
    const tenant = await postGraphQL<{ tenant: { id: string; workloads: Array<{ id: string }> } }>(
      gateway.origin,
      `query($id: ID!) { tenant(id: $id) { id workloads { id } } }`,
      { id: tenantId },
      await adminHeaders(dataDir.path),
    );
    expect(tenant.body).toEqual({ data: { tenant: { id: tenantId, workloads: [{ id: workloadId }] } } });
  });

  it('stops the gateway and the remaining planes on SIGTERM, each with exit code 0', async () => {
    const remaining = new Map<string, StartedServer>([
      ['gateway', gateway],
      ...PLANES.filter((plane) => plane !== KILLED_PLANE).map((plane): [string, StartedServer] => [plane, subgraphs.get(plane)!]),
    ]);
    const codes = await Promise.all([...remaining.values()].map((server) => server.stop('SIGTERM')));
    const byProcess = Object.fromEntries([...remaining.keys()].map((name, index) => [name, codes[index]]));
    const failed = [...remaining].filter(([name]) => byProcess[name] !== 0);
    if (failed.length) {
      throw new Error(
        `expected exit code 0 from each process, got ${JSON.stringify(byProcess)}; output of the first failing (${failed[0]![0]}):\n${failed[0]![1].output()}`,
      );
    }
    expect(Object.values(byProcess)).toEqual(Array(remaining.size).fill(0));
  });
});
