import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadDevIssuer } from '../../lib/auth/dev-issuer';
import { createLogger } from '../../lib/logger';
import { startStack } from '../../app/stack';
import type { RunningStack } from '../../app/stack';
import { downloadBundle, ecs, rest, saveJwks, waitForExport } from '../support/export-client';
import { makeTempDir } from '../../testkit/temp-dir';
import { testConfig } from '../../testkit/test-config';
import { createPostgresDatabase } from '../../testkit/test-database';
import { CREATE_TENANT, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('exports across two replicas on one PostgreSQL database', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const stacks: RunningStack[] = [];
  let replicas: TestStack[];

  beforeAll(async () => {
    dir = await makeTempDir('ecs-export-replicas-');
    database = await createPostgresDatabase();
    // Same DATA_DIR: the replicas share the signing keys and the development PKI, as deployments must.
    const config = testConfig({
      dataDir: dir.path,
      databaseUrl: database.databaseUrl,
      env: { RATE_LIMIT_PER_MINUTE: '100000', EXPORT_POLL_MS: '200' },
    });
    for (let i = 0; i < 2; i += 1) stacks.push(await startStack(config, createLogger({ level: 'silent' })));
    const issuer = await loadDevIssuer(config.devIssuer.keyFile);
    replicas = stacks.map((stack) => {
      const url = stack.gateway.url;
      const token: TestStack['token'] = (role, tenantId) =>
        issuer.mint({
          subject: `${role}${tenantId ?? ''}`,
          roles: [role],
          ...(tenantId ? { tenantId } : {}),
          audience: config.oidc.audience,
          ttlSeconds: 600,
        });
      return { url, token } as TestStack;
    });
  });
  afterAll(async () => {
    for (const stack of stacks) await stack.stop();
    await database?.drop();
    await dir?.remove();
  });

  it('an export requested on one replica is served, byte for byte the same, by either', async () => {
    const [a, b] = replicas as [TestStack, TestStack];
    const tenant = uniqueId('rep');
    const admin = await a.token('platform-admin');
    const created = await rest(a, admin, 'POST', '/graphql', { query: CREATE_TENANT, variables: { input: tenantInput(tenant) } });
    expect(created.json.errors).toBeUndefined();
    const auditor = await a.token('auditor', tenant);
    const requested = await rest(a, auditor, 'POST', '/v1/exports', { evidence_profile_id: 'ecs-evidence-admissible' });
    expect(requested.status).toBe(202);
    const done = await waitForExport(b, auditor, String(requested.json.id));
    expect(done.state).toBe('completed');
    const files = [path.join(dir.path, 'from-a.tar.gz'), path.join(dir.path, 'from-b.tar.gz')];
    expect((await downloadBundle(a, auditor, String(done.id), files[0]!)).status).toBe(200);
    expect((await downloadBundle(b, auditor, String(done.id), files[1]!)).status).toBe(200);
    expect((await readFile(files[0]!)).equals(await readFile(files[1]!))).toBe(true);
    const jwks = await saveJwks(b, path.join(dir.path, 'jwks.json'));
    expect((await ecs('verify', files[1]!, '--jwks', jwks)).code).toBe(0);
  });
});
