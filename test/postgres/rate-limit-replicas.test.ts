import { adminHeaders, killAllServerProcesses, startServerProcess } from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { createPostgresDatabase } from '../../testkit/test-database';

describe('rate limits shared by two gateway processes on PostgreSQL', () => {
  let dataDir: { path: string; remove(): Promise<void> };
  let database: { databaseUrl: string; drop(): Promise<void> };
  const servers: StartedServer[] = [];

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-rl-');
    database = await createPostgresDatabase();
    const env = {
      DATA_DIR: dataDir.path,
      DATABASE_URL: database.databaseUrl,
      RATE_LIMIT_PER_MINUTE: '6',
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000',
    };
    // The first creates the keys and schema; the second shares them.
    servers.push(await startServerProcess({ env }));
    servers.push(await startServerProcess({ env }));
  });
  afterAll(async () => {
    for (const server of servers) await server.stop('SIGTERM');
    await killAllServerProcesses();
    await database?.drop();
    await dataDir?.remove();
  });

  it('count one principal across both processes', async () => {
    const headers = await adminHeaders(dataDir.path);
    const statuses: number[] = [];
    const remaining: Array<string | null> = [];
    for (let n = 0; n < 8; n += 1) {
      const server = servers[n % 2]!;
      const response = await fetch(`${server.origin}/v1/tenants`, { headers });
      statuses.push(response.status);
      remaining.push(response.headers.get('x-ratelimit-remaining'));
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    expect(remaining).toEqual(['5', '4', '3', '2', '1', '0', '0', '0']);
  });
});
