import { readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { adminHeaders, killAllServerProcesses, postGraphQL, startServerProcess } from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { blobFiles, governance, sha256, temporaryFiles } from '../support/storage-client';
import { makeTempDir } from '../../testkit/temp-dir';
import { createTestDatabase } from '../../testkit/test-database';
import type { TestDatabase } from '../../testkit/test-database';
import { uniqueId } from '../support/test-stack';

/**
 * A real server process killed with SIGKILL while an object is being uploaded: after a
 * restart the acknowledged object is intact, the interrupted one does not exist (no row, no
 * evidence, nothing served), and the orphan sweep removes its temporary bytes. On the
 * embedded database and, in the `postgres` project, on PostgreSQL.
 */
jest.setTimeout(120_000);

const until = async (condition: () => boolean, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
};

describe('kill -9 during an upload', () => {
  let dataDir: { path: string; remove(): Promise<void> };
  let database: TestDatabase;
  let server: StartedServer | undefined;
  const tenantId = uniqueId('crash');
  const bucket = uniqueId('crash-b');
  const kept = Buffer.from('acknowledged before the crash\n');

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATA_DIR: dataDir.path,
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    ...extra,
  });
  const authorized = async (extra: Record<string, string> = {}) => ({ ...(await adminHeaders(dataDir.path)), ...extra });

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-e2e-crash-');
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await killAllServerProcesses();
    await database?.drop();
    await dataDir?.remove();
  });

  it('loses no acknowledged object, shows no interrupted one, and sweeps the interrupted bytes after restart', async () => {
    server = await startServerProcess({ env: env() });
    const json = await authorized({ 'content-type': 'application/json' });
    const tenant = await fetch(`${server.origin}/v1/tenants`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ id: tenantId, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' }),
    });
    expect(tenant.status).toBe(201);
    expect(
      (
        await fetch(`${server.origin}/v1/storage/${bucket}`, {
          method: 'PUT',
          headers: json,
          body: JSON.stringify({ tenant_id: tenantId, jurisdiction: 'DE' }),
        })
      ).status,
    ).toBe(201);
    const put = await fetch(`${server.origin}/v1/storage/${bucket}/objects/kept.txt`, {
      method: 'PUT',
      headers: await authorized(governance(kept)),
      body: kept,
    });
    expect(put.status).toBe(201);

    // An upload of 64 MB that stops after 8 MB and stays open while the server is killed.
    const url = new URL(`${server.origin}/v1/storage/${bucket}/objects/interrupted.bin`);
    const chunk = Buffer.alloc(1024 * 1024, 9);
    const headers = {
      ...(await authorized(governance(chunk, { 'x-eosc-integrity': `sha256:${'2'.repeat(64)}` }))),
      'content-length': String(64 * chunk.length),
      host: url.host,
    };
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `PUT ${url.pathname} HTTP/1.1\r\n${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join('\r\n')}\r\n\r\n`,
    );
    for (let i = 0; i < 8; i += 1) socket.write(chunk);
    const tmp = path.join(dataDir.path, 'blobs', 'tmp');
    const partWritten = () => temporaryFiles(dataDir.path).some((name) => statSync(path.join(tmp, name)).size >= 4 * chunk.length);
    expect(await until(partWritten, 30_000)).toBe(true);

    await server.kill();
    socket.destroy();
    expect(temporaryFiles(dataDir.path).length).toBeGreaterThan(0);

    // Restart; the sweep at start may take anything untouched for 0 ms that nothing refers to.
    server = await startServerProcess({ env: env({ BLOB_SWEEP_GRACE_MS: '0' }) });
    const read = await fetch(`${server.origin}/v1/storage/${bucket}/objects/kept.txt`, { headers: await authorized() });
    expect(read.status).toBe(200);
    expect(Buffer.from(await read.arrayBuffer()).equals(kept)).toBe(true);
    const interrupted = await fetch(`${server.origin}/v1/storage/${bucket}/objects/interrupted.bin`, {
      method: 'HEAD',
      headers: await authorized(),
    });
    expect(interrupted.status).toBe(404);

    const events = await postGraphQL<{
      events: { items: Array<{ eventType: string; outcome: string; details: Record<string, unknown> }> };
    }>(
      server.origin,
      'query($f: EventFilter) { events(filter: $f, first: 100) { items { eventType outcome details } } }',
      { f: { tenantId } },
      await authorized(),
    );
    const items = events.body.data!.events.items;
    expect(items.filter((event) => event.details.object_key === 'interrupted.bin' && event.outcome === 'accepted')).toEqual([]);
    expect(items.filter((event) => event.eventType === 'object.put').map((event) => event.details.object_key)).toEqual(['kept.txt']);
    const verified = await postGraphQL<{ verifyChain: { valid: boolean } }>(
      server.origin,
      'query($t: ID!) { verifyChain(tenantId: $t) { valid } }',
      { t: tenantId },
      await authorized(),
    );
    expect(verified.body.data?.verifyChain.valid).toBe(true);

    expect(await until(() => temporaryFiles(dataDir.path).length === 0, 15_000)).toBe(true);
    expect(blobFiles(dataDir.path)).toEqual([sha256(kept)]);
    expect(readdirSync(path.join(dataDir.path, 'blobs', 'tmp'))).toEqual([]);
    await server.stop('SIGTERM');
  });
});
