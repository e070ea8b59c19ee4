// Live audit events across gateway processes on one PostgreSQL database: a commit made
// through one process reaches the subscribers of the other through LISTEN/NOTIFY, also
// after the listening connection was cut.
import { Client } from 'pg';
import { devIssuerFile, loadDevIssuer } from '../../lib/auth/dev-issuer';
import { liveClient, openSse, subscribe } from '../support/live-events';
import type { SseStream } from '../support/live-events';
import { adminHeaders, killAllServerProcesses, startServerProcess } from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { createPostgresDatabase } from '../../testkit/test-database';
import { uniqueId } from '../support/test-stack';

describe('live audit events across two gateway processes on PostgreSQL', () => {
  let dataDir: { path: string; remove(): Promise<void> };
  let database: { databaseUrl: string; drop(): Promise<void> };
  const servers: StartedServer[] = [];
  const clients: Array<{ dispose(): void | Promise<void> }> = [];
  const streams: SseStream[] = [];
  let admin: Record<string, string>;

  const auditorToken = async (tenantId?: string) => {
    const issuer = await loadDevIssuer(devIssuerFile(dataDir.path));
    return issuer.mint({
      subject: `auditor-${tenantId ?? 'platform'}`,
      roles: ['auditor'],
      ...(tenantId ? { tenantId } : {}),
      audience: 'ecs-gateway',
      ttlSeconds: 600,
    });
  };
  const createTenant = async (server: StartedServer, id: string) => {
    const response = await fetch(`${server.origin}/v1/tenants`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ id, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' }),
    });
    expect(response.status).toBe(201);
  };
  /** Ends the server's sessions of the test database whose last statement was `query`; returns how many. */
  const cutConnections = async (query: string): Promise<number> => {
    const pg = new Client({ connectionString: database.databaseUrl });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ pid: number }>(
        'SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1',
        [query],
      );
      return rows.length;
    } finally {
      await pg.end();
    }
  };
  const suspendTenant = async (server: StartedServer, id: string) => {
    const response = await fetch(`${server.origin}/v1/tenants/${id}/suspend`, { method: 'POST', headers: admin });
    expect(response.status).toBe(202);
  };

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-live-');
    database = await createPostgresDatabase();
    // A short poll interval would hide a broken LISTEN path; keep it long.
    const env = { DATA_DIR: dataDir.path, DATABASE_URL: database.databaseUrl, SUBSCRIPTION_POLL_MS: '600000' };
    servers.push(await startServerProcess({ env }));
    servers.push(await startServerProcess({ env }));
    admin = await adminHeaders(dataDir.path);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    for (const stream of streams.splice(0)) stream.close();
  });
  afterAll(async () => {
    for (const server of servers) await server.stop('SIGTERM');
    await killAllServerProcesses();
    await database?.drop();
    await dataDir?.remove();
  });

  it('delivers an event committed through one process to the subscribers of the other', async () => {
    const tenant = uniqueId('replica');
    const [first, second] = servers as [StartedServer, StartedServer];
    const client = liveClient(first.origin, { token: await auditorToken(tenant) });
    clients.push(client);
    const sub = subscribe(client);
    const platform = liveClient(second.origin, { token: await auditorToken() });
    clients.push(platform);
    const everyTenant = subscribe(platform, { eventTypes: ['tenant.*'] });
    const sse = await openSse(second.origin, `/v1/events/stream?tenant=${tenant}`, { authorization: `Bearer ${await auditorToken()}` });
    streams.push(sse);
    await new Promise((resolve) => setTimeout(resolve, 500));

    await createTenant(second, tenant);
    await suspendTenant(first, tenant);
    expect((await sub.next(2)).map((event) => [event.eventType, event.sequence])).toEqual([
      ['tenant.create', 1],
      ['tenant.suspend', 2],
    ]);
    expect((await sse.next(2)).map((event) => [event.id, JSON.parse(event.data).event_type])).toEqual([
      ['1', 'tenant.create'],
      ['2', 'tenant.suspend'],
    ]);
    await everyTenant.next(2);
    expect(everyTenant.events.filter((event) => event.tenantId === tenant).map((event) => event.eventType)).toEqual([
      'tenant.create',
      'tenant.suspend',
    ]);
  });

  it('keeps delivering after the listening connections are cut', async () => {
    const tenant = uniqueId('relisten');
    const [first, second] = servers as [StartedServer, StartedServer];
    const client = liveClient(first.origin, { token: await auditorToken(tenant) });
    clients.push(client);
    const sub = subscribe(client);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await cutConnections('LISTEN "ecs_evidence"')).toBe(2);
    // Committed while no process listens: read when the listener is back (resync).
    await createTenant(second, tenant);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await suspendTenant(second, tenant);
    expect((await sub.next(2)).map((event) => event.sequence)).toEqual([1, 2]);
  });

  it('keeps announcing after the connections that send the announcements are cut', async () => {
    const tenant = uniqueId('renotify');
    const [first, second] = servers as [StartedServer, StartedServer];
    const client = liveClient(first.origin, { token: await auditorToken(tenant) });
    clients.push(client);
    const sub = subscribe(client);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await createTenant(second, tenant);
    expect((await sub.next(1)).map((event) => event.sequence)).toEqual([1]);
    expect(await cutConnections('SELECT pg_notify($1, $2)')).toBeGreaterThanOrEqual(1);
    // The subscribers poll only every 10 minutes here: only a NOTIFY delivers this in time.
    await suspendTenant(second, tenant);
    expect((await sub.next(2)).map((event) => event.sequence)).toEqual([1, 2]);
  });
});
