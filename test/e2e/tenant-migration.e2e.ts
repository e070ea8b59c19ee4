import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { adminHeaders, killAllServerProcesses, postGraphQL, startServerProcess } from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { governance } from '../../testkit/governance';
import { makeTempDir } from '../../testkit/temp-dir';
import { createTestDatabase } from '../../testkit/test-database';
import type { TestDatabase } from '../../testkit/test-database';
import { downloadBundle, ecs, exportAndWait, rest } from '../support/export-client';
import { uniqueId } from '../support/test-stack';

/**
 * A tenant moved between two deployments running as separate processes, each with its own data
 * directory and database (two PostgreSQL databases in the `postgres` project), with the faults
 * of docs/migration.md: a tampered package, one signed by a key the target does not trust, a
 * target that cannot honour the tenant's jurisdiction, the source killed (SIGKILL) during the
 * export and the target killed during the import. Each fault leaves both sides consistent and
 * evidenced; then the move completes and the two chains verify as one with `ecs verify`.
 */
jest.setTimeout(300_000);

const EXPORTS = '/v1/migrations/exports';
const IMPORTS = '/v1/migrations/imports';
const EVENTS =
  'query($f: EventFilter) { events(filter: $f, first: 1000) { items { sequence eventType outcome refusalReasonCode details } } }';

interface Deployment {
  name: string;
  dataDir: { path: string; remove(): Promise<void> };
  database: TestDatabase;
  env: Record<string, string>;
  server: StartedServer;
  url: string;
  token: string;
}

interface ChainEvent {
  sequence: number;
  eventType: string;
  outcome: string;
  refusalReasonCode: string | null;
  details: Record<string, unknown>;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function start(deployment: Omit<Deployment, 'server' | 'url' | 'token'>): Promise<Deployment> {
  const server = await startServerProcess({
    env: {
      DATA_DIR: deployment.dataDir.path,
      ...(deployment.database.databaseUrl ? { DATABASE_URL: deployment.database.databaseUrl } : {}),
      ...deployment.env,
    },
  });
  const token = (await adminHeaders(deployment.dataDir.path)).authorization!.slice('Bearer '.length);
  return { ...deployment, server, url: server.origin, token };
}

async function chainOf(deployment: Deployment, tenantId: string): Promise<ChainEvent[]> {
  const answer = await postGraphQL<{ events: { items: ChainEvent[] } }>(
    deployment.url,
    EVENTS,
    { f: { tenantId } },
    { authorization: `Bearer ${deployment.token}` },
  );
  expect(answer.body.errors).toBeUndefined();
  return answer.body.data!.events.items;
}

async function verifyChain(deployment: Deployment, tenantId: string): Promise<boolean> {
  const answer = await postGraphQL<{ verifyChain: { valid: boolean } }>(
    deployment.url,
    'query($t: ID!) { verifyChain(tenantId: $t) { valid } }',
    { t: tenantId },
    { authorization: `Bearer ${deployment.token}` },
  );
  return answer.body.data?.verifyChain.valid === true;
}

async function object(deployment: Deployment, bucket: string, key: string, query = '', method = 'GET') {
  const response = await request(`${deployment.url}/v1/storage/${bucket}/objects/${key}${query}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${deployment.token}` },
  });
  return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
}

async function putObject(deployment: Deployment, bucket: string, key: string, body: Buffer, overrides: Record<string, string> = {}) {
  const response = await request(`${deployment.url}/v1/storage/${bucket}/objects/${key}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${deployment.token}`, ...governance(body, overrides) },
    body,
  });
  return { status: response.statusCode, headers: response.headers, json: (await response.body.json()) as Record<string, unknown> };
}

async function upload(target: Deployment, file: string, jwksUrl: string) {
  const response = await request(`${target.url}${IMPORTS}?source_jwks_url=${encodeURIComponent(jwksUrl)}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${target.token}`,
      'content-type': 'application/gzip',
      'content-length': String((await stat(file)).size),
    },
    body: createReadStream(file),
  });
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
}

const until = async (condition: () => Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return true;
};

describe('tenant migration between two deployments in separate processes, with faults', () => {
  let source: Deployment;
  let target: Deployment;
  let temp: { path: string; remove(): Promise<void> };
  const tenant = uniqueId('exit');
  const bucket = uniqueId('exit-b');
  const big = randomBytes(48 * 1024 * 1024);
  const objects: Array<{ key: string; versionId: string; body: Buffer }> = [];
  let exportId: string;
  let packageFile: string;

  beforeAll(async () => {
    temp = await makeTempDir('ecs-e2e-migration-');
    const [sourceDir, targetDir, sourceDb, targetDb] = await Promise.all([
      makeTempDir('ecs-e2e-source-'),
      makeTempDir('ecs-e2e-target-'),
      createTestDatabase(),
      createTestDatabase(),
    ]);
    // The source serves only FR imports: importing the DE tenant there shows the jurisdiction gate.
    [source, target] = await Promise.all([
      start({
        name: 'source',
        dataDir: sourceDir,
        database: sourceDb,
        env: { PROVIDER_ID: 'provider-source', MIGRATION_JURISDICTIONS: 'FR' },
      }),
      start({ name: 'target', dataDir: targetDir, database: targetDb, env: { PROVIDER_ID: 'provider-target' } }),
    ]);

    const created = await rest(source, source.token, 'POST', '/v1/tenants', {
      id: tenant,
      authority_binding: 'auth-dev-001',
      jurisdiction: 'DE',
      policy_baseline: 'ecs-baseline-v1',
    });
    expect(created.status).toBe(201);
    const workload = await rest(source, source.token, 'POST', '/v1/workloads', {
      tenant_id: tenant,
      envelope_type: 'container',
      image_ref: `registry.example.eu/app@sha256:${'ab'.repeat(32)}`,
    });
    expect(workload.status).toBe(201);
    const bucketMade = await request(`${source.url}/v1/storage/${bucket}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${source.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenant, jurisdiction: 'DE', versioning: true }),
    });
    expect(bucketMade.statusCode).toBe(201);
    await bucketMade.body.dump();
    const put = async (key: string, body: Buffer, overrides: Record<string, string> = {}) => {
      const answer = await putObject(source, bucket, key, body, overrides);
      expect([answer.status, answer.json]).toEqual([201, expect.anything()]);
      objects.push({ key, versionId: String(answer.headers['x-eosc-version-id']), body });
    };
    await put('a.txt', Buffer.from('first'));
    await put('a.txt', Buffer.from('second, kept for a day'), { 'x-eosc-retention-ttl': 'P1D' });
    await put('held.txt', Buffer.from('held'));
    const hold = await request(`${source.url}/v1/storage/${bucket}/objects/held.txt?legal_hold`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${source.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'ON' }),
    });
    expect(hold.statusCode).toBe(200);
    await hold.body.dump();
    await put('big.bin', big, { 'content-type': 'application/octet-stream' });
    // A refused action: bytes that are not what their integrity says.
    const refused = await putObject(source, bucket, 'wrong.txt', Buffer.from('x'), {
      'x-eosc-integrity': `sha256:${sha256(Buffer.from('y'))}`,
    });
    expect(refused.status).toBe(400);
  });
  afterAll(async () => {
    await killAllServerProcesses();
    for (const deployment of [source, target]) {
      await deployment?.database.drop();
      await deployment?.dataDir.remove();
    }
    await temp?.remove();
  });

  it('source killed during the export: after a restart the job answers failed, the tenant and its chain are intact, and a new export completes', async () => {
    const requested = await rest(source, source.token, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'full' });
    expect(requested.status).toBe(202);
    const interrupted = String(requested.json.id);
    expect(
      await until(async () => (await rest(source, source.token, 'GET', `${EXPORTS}/${interrupted}`)).json.state === 'running', 30_000, 5),
    ).toBe(true);
    await source.server.kill();
    source = await start(source);

    const after = await rest(source, source.token, 'GET', `${EXPORTS}/${interrupted}`);
    expect(after.json).toMatchObject({ state: 'failed', error: expect.stringContaining('interrupted') });
    const download = await rest(source, source.token, 'GET', `${EXPORTS}/${interrupted}/package`);
    expect(download.status).toBe(409);
    expect((await rest(source, source.token, 'GET', `/v1/tenants/${tenant}`)).json.status).toBe('active');
    expect(await verifyChain(source, tenant)).toBe(true);
    const chain = await chainOf(source, tenant);
    expect(
      chain.filter((event) => event.eventType === 'migration.export.plan').map((event) => event.details.migration_export_id),
    ).toContain(interrupted);

    const again = await rest(source, source.token, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'full' });
    exportId = String(again.json.id);
    expect(
      await until(async () => (await rest(source, source.token, 'GET', `${EXPORTS}/${exportId}`)).json.state === 'completed', 120_000, 100),
    ).toBe(true);
    packageFile = path.join(temp.path, 'package.tar.gz');
    const response = await request(`${source.url}${EXPORTS}/${exportId}/package`, { headers: { authorization: `Bearer ${source.token}` } });
    expect(response.statusCode).toBe(200);
    await pipeline(response.body, createWriteStream(packageFile));
  });

  it('refuses a package with one byte changed, one checked against keys that did not sign it, and a target that cannot honour the jurisdiction; each evidenced, nothing made', async () => {
    const bytes = await readFile(packageFile);
    const tampered = Buffer.from(bytes);
    // A byte inside the compressed stream, far from the gzip header: the archive no longer reads, or an item no longer hashes.
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    const tamperedFile = path.join(temp.path, 'tampered.tar.gz');
    await writeFile(tamperedFile, tampered);
    const sourceJwks = `${source.url}/.well-known/jwks.json`;

    const broken = await upload(target, tamperedFile, sourceJwks);
    expect([broken.status, broken.json.status]).toEqual([200, 'refused']);
    const failed = (broken.json.gates as Array<{ gate: string; result: string }>)
      .filter((gate) => gate.result === 'fail')
      .map((gate) => gate.gate);
    expect(failed).toEqual(expect.arrayContaining(['integrity']));

    const stranger = await upload(target, packageFile, `${target.url}/.well-known/jwks.json`);
    expect([stranger.status, stranger.json.status]).toEqual([200, 'refused']);
    expect((stranger.json.gates as Array<{ gate: string; result: string }>)[0]).toMatchObject({ gate: 'signature', result: 'fail' });

    const elsewhere = await upload(source, packageFile, sourceJwks);
    expect([elsewhere.status, elsewhere.json.status]).toEqual([200, 'refused']);
    expect(
      (elsewhere.json.gates as Array<{ gate: string; result: string; reason: string }>).find((gate) => gate.gate === 'jurisdiction'),
    ).toMatchObject({
      result: 'fail',
      reason: expect.stringContaining('which this deployment does not serve (FR)'),
    });

    // Nothing of the tenant on the target; the refusals are in its platform chain.
    expect((await rest(target, target.token, 'GET', `/v1/tenants/${tenant}`)).status).toBe(404);
    const platform = await chainOf(target, '_platform');
    const refusals = platform.filter((event) => event.eventType === 'migration.import.validate' && event.outcome === 'refused');
    expect(refusals.map((event) => event.details.import_id)).toEqual(
      expect.arrayContaining([broken.json.import_id, stranger.json.import_id]),
    );
    expect((await rest(source, source.token, 'GET', `/v1/tenants/${tenant}`)).json.status).toBe('active');
  });

  it('target killed during the import: after a restart the import is finished or absent, never half made, and the move completes', async () => {
    const imports = path.join(target.dataDir.path, 'migration-imports');
    const reportsBefore = new Set(existsSync(imports) ? await readdir(imports) : []);
    const sending = upload(target, packageFile, `${source.url}/.well-known/jwks.json`).catch(() => undefined);
    // Killed once the gates have passed (the report is written) and the tenant is being made.
    const newReport = async () =>
      existsSync(imports) && (await readdir(imports)).some((name) => name.endsWith('.json') && !reportsBefore.has(name));
    expect(await until(newReport, 120_000, 5)).toBe(true);
    await target.server.kill();
    await sending;
    target = await start(target);

    const [reportName] = (await readdir(imports)).filter((name) => name.endsWith('.json') && !reportsBefore.has(name));
    const importId = reportName!.replace(/\.json$/, '');
    const report = await rest(target, target.token, 'GET', `${IMPORTS}/${importId}`);
    expect(['validated', 'imported']).toContain(report.json.status);
    // Either nothing of the tenant exists yet, or all of it: the transaction made it whole.
    const made = await rest(target, target.token, 'GET', `/v1/tenants/${tenant}`);
    if (made.status === 200) {
      expect(made.json.status).toBe('importing');
      const versions = await request(`${target.url}/v1/storage/${bucket}/objects?versions`, {
        headers: { authorization: `Bearer ${target.token}` },
      });
      expect(((await versions.body.json()) as { versions: unknown[] }).versions).toHaveLength(objects.length);
    } else expect(made.status).toBe(404);

    // Activation finishes a materialisation the crash cut short, then activates.
    const activated = await rest(target, target.token, 'POST', `${IMPORTS}/${importId}/activate`);
    expect([activated.status, activated.json.status]).toEqual([200, 'active']);
    expect(activated.json.workloads_refused).toEqual([]);

    for (const version of objects) {
      const query = `?version_id=${version.versionId}`;
      const [there, here] = await Promise.all([object(source, bucket, version.key, query), object(target, bucket, version.key, query)]);
      expect([version.key, here.status]).toEqual([version.key, 200]);
      expect(sha256(here.body)).toBe(sha256(version.body));
      for (const header of [
        'x-eosc-jurisdiction',
        'x-eosc-classification',
        'x-eosc-retention-until',
        'x-eosc-legal-hold',
        'x-eosc-integrity',
        'content-type',
      ])
        expect([header, here.headers[header]]).toEqual([header, there.headers[header]]);
    }
    const facts = ['authority_binding', 'jurisdiction', 'classification_ceiling', 'policy_baseline'];
    const [sourceTenant, targetTenant] = await Promise.all([
      rest(source, source.token, 'GET', `/v1/tenants/${tenant}`),
      rest(target, target.token, 'GET', `/v1/tenants/${tenant}`),
    ]);
    for (const fact of facts) expect(targetTenant.json[fact]).toBe(sourceTenant.json[fact]);
    const listWorkloads = async (deployment: Deployment) => {
      const answer = await rest(deployment, deployment.token, 'GET', `/v1/workloads?tenant=${tenant}`);
      expect(answer.status).toBe(200);
      // `updated_at` says when the row was last written on each side.
      return (answer.json.items as Array<Record<string, unknown>>).map(({ updated_at: _written, ...workload }) => workload);
    };
    const sourceWorkloads = await listWorkloads(source);
    expect(sourceWorkloads).toHaveLength(1);
    expect(await listWorkloads(target)).toEqual(sourceWorkloads);

    // The source completes: the tenant is migrated there, writes refused with the pointer, reads still served.
    const migratedTo = `${target.url}/v1/tenants/${tenant}`;
    const completed = await rest(source, source.token, 'POST', `${EXPORTS}/${exportId}/complete`, { migrated_to: migratedTo });
    expect([completed.status, completed.json.cutover]).toEqual([200, 'completed']);
    const write = await putObject(source, bucket, 'late.txt', Buffer.from('late'));
    expect(write.status).toBe(403);
    expect(String(write.json.message)).toContain(migratedTo);
    expect(write.json.evidence_pointer).toMatch(/^eosc:/);
    expect((await object(source, bucket, 'held.txt')).status).toBe(200);
    // The target takes writes.
    expect((await putObject(target, bucket, 'after.txt', Buffer.from('written on the target'))).status).toBe(201);

    // Both chains, exported as evidence bundles of each deployment, verify as one.
    const bundles: string[] = [];
    const keys: string[] = [];
    for (const deployment of [source, target]) {
      const done = await exportAndWait(deployment, deployment.token, { tenant_id: tenant, evidence_profile_id: 'ecs-evidence-admissible' });
      expect(done.state).toBe('completed');
      const file = path.join(temp.path, `${deployment.name}-bundle.tar.gz`);
      expect((await downloadBundle(deployment, deployment.token, String(done.id), file)).status).toBe(200);
      bundles.push(file);
      const jwks = path.join(temp.path, `${deployment.name}-jwks.json`);
      await writeFile(jwks, await (await fetch(`${deployment.url}/.well-known/jwks.json`)).text());
      keys.push(jwks);
    }
    const verified = await ecs('verify', bundles[0]!, bundles[1]!, '--source-jwks', keys[0]!, '--jwks', keys[1]!, '--json');
    expect([verified.code, verified.stderr]).toEqual([0, expect.any(String)]);
    const verdict = JSON.parse(verified.stdout) as { ok: boolean; link: { ok: boolean } };
    expect(verdict).toMatchObject({ ok: true, link: { ok: true } });
    // Swapped, the link does not hold: the target's chain is not where the source's continues.
    const swapped = await ecs('verify', bundles[1]!, bundles[0]!, '--source-jwks', keys[1]!, '--jwks', keys[0]!, '--json');
    expect(swapped.code).toBe(1);
  });
});
