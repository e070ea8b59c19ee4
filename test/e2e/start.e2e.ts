import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  expectExitCode,
  getJson,
  killAllServerProcesses,
  pollReadyz,
  adminHeaders,
  postGraphQL,
  spawnServerProcess,
  startServerProcess,
} from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { createTestDatabase } from '../../testkit/test-database';
import type { TestDatabase } from '../../testkit/test-database';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, tenantInput, uniqueId } from '../support/test-stack';
import { governance } from '../support/storage-client';

const OBJECT_BYTES = Buffer.from('bytes that outlive the process\n');

/**
 * `npm start` as a user runs it: a real process (tsx cli/start.ts) on the embedded
 * database under a fresh DATA_DIR, or, on the `postgres` project, on a fresh PostgreSQL
 * database given as DATABASE_URL.
 */
jest.setTimeout(90_000);

const TENANT_OVERVIEW = `query TenantOverview($id: ID!) {
  tenant(id: $id) {
    id jurisdiction status
    workloads { id tenantId envelopeType imageRef }
    events(last: 10) { sequence eventType tenantId }
  }
}`;

interface TenantOverview {
  tenant: {
    id: string;
    jurisdiction: string;
    status: string;
    workloads: Array<{ id: string; tenantId: string; envelopeType: string; imageRef: string }>;
    events: Array<{ sequence: number; eventType: string; tenantId: string }>;
  } | null;
}

describe('npm start: the whole stack in one process', () => {
  let dataDir: { path: string; remove(): Promise<void> };
  let database: TestDatabase;
  let server: StartedServer | undefined;
  const tenantId = uniqueId('e2e');
  let workloadId: string | undefined;
  let before: TenantOverview | undefined;
  const bucketName = uniqueId('e2e-b');
  let objectVersion: string | undefined;

  const env = (): Record<string, string> => ({
    DATA_DIR: dataDir.path,
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
  });
  const expectedDatabase = (): string => (database.databaseUrl ? 'postgresql' : 'pglite');

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-e2e-');
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await killAllServerProcesses();
    await database?.drop();
    await dataDir?.remove();
  });

  // A bound against a start that hangs, not a speed figure: on a quiet machine the stack is ready
  // in about 7 s; under CI's parallel load (two test workers and their stacks) it has taken 37 s.
  it('starts on a fresh DATA_DIR, prints its URLs and becomes ready (within 90 s of the spawn: not hung)', async () => {
    server = await startServerProcess({ env: env() });
    const readyz = await pollReadyz(server.origin, server.spawnedAt + 90_000);
    const elapsed = Date.now() - server.spawnedAt;
    expect(readyz).toMatchObject({ status: 200, body: { status: 'ready', reasons: [] } });
    expect(elapsed).toBeLessThan(90_000);

    const { origin } = server;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(origin).port)).toBeGreaterThan(0);
    const stdout = server.stdout();
    expect(stdout).toMatch(new RegExp(`^ECS Gateway ready in \\d+ ms \\(database: ${expectedDatabase()}\\)$`, 'm'));
    expect(stdout).toContain(`  GraphQL      POST/GET ${origin}/graphql\n`);
    expect(stdout).toContain(`  REST         ${origin}/v1/...\n`);
    expect(stdout).toContain(`  Health       ${origin}/healthz  ${origin}/readyz\n`);
    expect(stdout).toContain(`  Metrics      ${origin}/metrics\n`);

    const healthz = await getJson(origin, '/healthz');
    expect(healthz).toMatchObject({ status: 200, body: { status: 'ok' } });

    // The fresh DATA_DIR now holds the development PKI, and the embedded database unless on PostgreSQL.
    expect(existsSync(path.join(dataDir.path, 'pki', 'ca.pem'))).toBe(true);
    expect(existsSync(path.join(dataDir.path, 'pglite'))).toBe(!database.databaseUrl);
  }, 120_000);

  it('returns the X-Request-Id sent to /graphql, and makes one up for an unusable value', async () => {
    const sent = `e2e-${uniqueId('req')}`;
    const kept = await postGraphQL(server!.origin, '{ __typename }', undefined, {
      'x-request-id': sent,
      ...(await adminHeaders(dataDir.path)),
    });
    expect(kept.status).toBe(200);
    expect(kept.body).toEqual({ data: { __typename: 'Query' } });
    expect(kept.headers.get('x-request-id')).toBe(sent);

    const replaced = await postGraphQL(server!.origin, '{ __typename }', undefined, {
      'x-request-id': 'not a token!',
      ...(await adminHeaders(dataDir.path)),
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('stores a tenant, a workload and a governed object, then stops on SIGTERM with exit code 0', async () => {
    const tenant = await postGraphQL(server!.origin, CREATE_TENANT, { input: tenantInput(tenantId) }, await adminHeaders(dataDir.path));
    expect(tenant.body.errors).toBeUndefined();
    const workload = await postGraphQL<{ createWorkload: { id: string; tenantId: string; status: string } }>(
      server!.origin,
      CREATE_WORKLOAD,
      { input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' } },
      await adminHeaders(dataDir.path),
    );
    expect(workload.body.errors).toBeUndefined();
    workloadId = workload.body.data!.createWorkload.id;
    // A governed object: its bytes, metadata and evidence must survive the restart too.
    const bucket = await fetch(`${server!.origin}/v1/storage/${bucketName}`, {
      method: 'PUT',
      headers: { ...(await adminHeaders(dataDir.path)), 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenantId, jurisdiction: 'DE', versioning: true }),
    });
    expect(bucket.status).toBe(201);
    const put = await fetch(`${server!.origin}/v1/storage/${bucketName}/objects/kept/across-restart.txt`, {
      method: 'PUT',
      headers: { ...(await adminHeaders(dataDir.path)), ...governance(OBJECT_BYTES) },
      body: OBJECT_BYTES,
    });
    expect(put.status).toBe(201);
    objectVersion = ((await put.json()) as { version_id: string }).version_id;
    const overview = await postGraphQL<TenantOverview>(server!.origin, TENANT_OVERVIEW, { id: tenantId }, await adminHeaders(dataDir.path));
    expect(overview.body.errors).toBeUndefined();
    before = overview.body.data!;
    expect(before.tenant!.workloads.map((w) => w.id)).toEqual([workloadId]);

    const code = await server!.stop('SIGTERM');
    expectExitCode(code, 0, server!);
    // Nothing listens on the port any more.
    await expect(fetch(`${server!.origin}/healthz`)).rejects.toThrow();
  });

  it('reads the tenant, its workloads, the object (bytes and governance metadata) and its verifiable evidence back after a restart', async () => {
    expect(workloadId).toBeDefined();
    expect(server!.exited()).toBe(true);
    server = await startServerProcess({ env: env() });
    expect(server.stdout()).toMatch(new RegExp(`\\(database: ${expectedDatabase()}\\)`));
    // As for the first start: a bound against a hung restart, not a speed figure.
    const readyz = await pollReadyz(server.origin, Date.now() + 90_000);
    expect(readyz.status).toBe(200);

    const after = await postGraphQL<TenantOverview>(server.origin, TENANT_OVERVIEW, { id: tenantId }, await adminHeaders(dataDir.path));
    expect(after.body.errors).toBeUndefined();
    const tenant = after.body.data!.tenant;
    expect(tenant).toMatchObject({ id: tenantId, jurisdiction: 'DE', status: 'active' });
    expect(tenant!.workloads).toEqual([{ id: workloadId, tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE }]);
    expect([...tenant!.events].sort((a, b) => a.sequence - b.sequence)).toEqual([
      { sequence: 1, eventType: 'tenant.create', tenantId },
      { sequence: 2, eventType: 'workload.admit', tenantId },
      { sequence: 3, eventType: 'storage.bucket.create', tenantId },
      { sequence: 4, eventType: 'object.put', tenantId },
    ]);
    expect(after.body.data).toEqual(before);

    const object = await fetch(`${server.origin}/v1/storage/${bucketName}/objects/kept/across-restart.txt`, {
      headers: await adminHeaders(dataDir.path),
    });
    expect(object.status).toBe(200);
    expect(Buffer.from(await object.arrayBuffer()).equals(OBJECT_BYTES)).toBe(true);
    expect(object.headers.get('x-eosc-version-id')).toBe(objectVersion);
    for (const [name, value] of Object.entries(governance(OBJECT_BYTES))) {
      if (name.startsWith('x-eosc-')) expect([name, object.headers.get(name)]).toEqual([name, value]);
    }
    const verified = await postGraphQL<{ verifyChain: { valid: boolean; checked: number } }>(
      server.origin,
      'query($t: ID!) { verifyChain(tenantId: $t) { valid checked } }',
      { t: tenantId },
      await adminHeaders(dataDir.path),
    );
    expect(verified.body.data?.verifyChain).toMatchObject({ valid: true, checked: 6 });

    expectExitCode(await server.stop('SIGTERM'), 0, server);
  }, 120_000);
});

describe('configuration errors', () => {
  let dataDir: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-e2e-config-');
  });
  afterAll(async () => {
    await killAllServerProcesses();
    await dataDir?.remove();
  });

  it('PORT=abc: exits 1 printing one line on stderr that names PORT', async () => {
    const server = spawnServerProcess({ env: { DATA_DIR: dataDir.path, PORT: 'abc' } });
    const code = await server.waitForExit(30_000);
    expectExitCode(code, 1, server);
    const lines = server
      .stderr()
      .split('\n')
      .filter((line) => line.length > 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^configuration error: PORT: .*"abc"/);
    expect(server.stdout()).toBe('');
  });

  it('gateway mode (npm run start:gateway) without DATABASE_URL: exits 1 naming DATABASE_URL', async () => {
    const server = spawnServerProcess({ args: ['gateway'], env: { DATA_DIR: dataDir.path } });
    const code = await server.waitForExit(30_000);
    expectExitCode(code, 1, server);
    const lines = server
      .stderr()
      .split('\n')
      .filter((line) => line.length > 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^configuration error: DATABASE_URL: /);
    expect(server.stdout()).toBe('');
    // Refused before touching anything: no embedded database was created.
    expect(existsSync(path.join(dataDir.path, 'pglite'))).toBe(false);
  });
});
