// The development issuer and `ecs token`: one private key per data directory, tokens that the
// gateway's verifier accepts.
import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import { DEV_ISSUER, devIssuerFile, loadDevIssuer } from '../../lib/auth/dev-issuer';
import type { DevIssuer } from '../../lib/auth/dev-issuer';
import { TokenVerificationError, createTokenVerifier } from '../../lib/auth/token-verifier';
import { makeTempDir } from '../../testkit/temp-dir';

const ROOT = path.resolve(__dirname, '../..');

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await makeTempDir('ecs-dev-issuer-');
  cleanups.push(() => dir.remove());
  return dir.path;
}

function verifierFor(issuer: DevIssuer) {
  return createTokenVerifier({ issuers: [{ issuer: DEV_ISSUER, jwks: issuer.jwks }], audience: 'ecs-gateway', algorithms: ['ES256'] });
}

function ecs(dataDir: string, ...args: string[]) {
  const env = { ...process.env, DATA_DIR: dataDir };
  return spawnSync(process.execPath, [require.resolve('tsx/cli'), 'cli/ecs.ts', ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('development issuer', () => {
  it('creates its key file once, private (0600), even when loaders race, and reuses it', async () => {
    const dir = await tempDir();
    const file = devIssuerFile(dir);
    expect(file).toBe(path.join(dir, 'keys', 'dev-issuer.json'));
    const loaded = await Promise.all(Array.from({ length: 5 }, () => loadDevIssuer(file)));
    const kids = new Set(loaded.map((issuer) => issuer.jwks.keys[0]!.kid));
    expect(kids.size).toBe(1);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const before = await readFile(file, 'utf8');
    const again = await loadDevIssuer(file);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(again.jwks).toEqual(loaded[0]!.jwks);

    const [jwk] = again.jwks.keys;
    expect(again.jwks.keys).toHaveLength(1);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    expect(jwk!.kid).toBe(await calculateJwkThumbprint(jwk!));
    expect(again.issuer).toBe(DEV_ISSUER);
  });

  it('mints access tokens that the token verifier accepts, with roles, tenant and expiry', async () => {
    const issuer = await loadDevIssuer(devIssuerFile(await tempDir()));
    const token = await issuer.mint({
      subject: 'alice',
      roles: ['tenant-admin', 'auditor'],
      tenantId: 'acme',
      jurisdiction: 'EU-DE',
      audience: 'ecs-gateway',
      ttlSeconds: 900,
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: issuer.jwks.keys[0]!.kid, typ: 'at+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: DEV_ISSUER, sub: 'alice', aud: 'ecs-gateway', tenant_id: 'acme', jurisdiction: 'EU-DE' });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(typeof claims.jti).toBe('string');

    const verified = await verifierFor(issuer).verify(token);
    expect(verified).toMatchObject({
      subject: 'alice',
      issuer: DEV_ISSUER,
      roles: ['tenant-admin', 'auditor'],
      tenantId: 'acme',
      jurisdiction: 'EU-DE',
      tokenId: claims.jti,
    });
    expect(verified.expiresAt.getTime() - verified.issuedAt.getTime()).toBe(900_000);

    const platform = await issuer.mint({ subject: 'root', roles: ['platform-admin'], audience: 'ecs-gateway', ttlSeconds: 60 });
    expect(decodeJwt(platform)).not.toHaveProperty('tenant_id');
    await expect(verifierFor(issuer).verify(platform)).resolves.toMatchObject({ roles: ['platform-admin'] });
    const other = await issuer.mint({ subject: 'x', roles: ['reader'], audience: 'billing', ttlSeconds: 60 });
    await expect(verifierFor(issuer).verify(other)).rejects.toMatchObject({ failure: 'audience' });
    await expect(issuer.mint({ subject: 'x', roles: [], audience: 'ecs-gateway', ttlSeconds: 0 })).rejects.toThrow(RangeError);
  });

  it("does not accept another data directory's development issuer", async () => {
    const mine = await loadDevIssuer(devIssuerFile(await tempDir()));
    const theirs = await loadDevIssuer(devIssuerFile(await tempDir()));
    const token = await theirs.mint({ subject: 'mallory', roles: ['platform-admin'], audience: 'ecs-gateway', ttlSeconds: 60 });
    const refused = await verifierFor(mine)
      .verify(token)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TokenVerificationError);
    expect((refused as TokenVerificationError).failure).toBe('unknown_key');
  });

  it('refuses a key file that holds no ES256 private key', async () => {
    const file = path.join(await tempDir(), 'dev-issuer.json');
    await writeFile(file, JSON.stringify({ kid: 'x', createdAt: '', privateJwk: { kty: 'oct', k: 'c2VjcmV0' } }), { mode: 0o600 });
    await expect(loadDevIssuer(file)).rejects.toThrow(/ES256 private key/);
  });
});

describe('ecs token', () => {
  it("prints a token that verifies against the data directory's development issuer", async () => {
    const dir = await tempDir();
    const result = ecs(dir, 'token', '--role', 'tenant-admin', '--tenant', 'acme', '--ttl', '15m');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const issuer = await loadDevIssuer(devIssuerFile(dir));
    const verified = await verifierFor(issuer).verify(lines[0]!);
    expect(verified).toMatchObject({ subject: 'dev-tenant-admin', roles: ['tenant-admin'], tenantId: 'acme' });
    expect(verified.expiresAt.getTime() - verified.issuedAt.getTime()).toBe(15 * 60 * 1000);
    expect((await stat(devIssuerFile(dir))).mode & 0o777).toBe(0o600);

    const custom = ecs(dir, 'token', '--role=auditor', '--subject', 'svc-audit', '--audience', 'ecs-gateway', '--ttl', '2d');
    expect(custom.status).toBe(0);
    const auditor = await verifierFor(issuer).verify(custom.stdout.trim());
    expect(auditor).toMatchObject({ subject: 'svc-audit', roles: ['auditor'] });
    expect(auditor).not.toHaveProperty('tenantId');
    expect(auditor.expiresAt.getTime() - auditor.issuedAt.getTime()).toBe(2 * 86_400_000);
  });

  it('exits 2 with one line for a bad role, ttl or argument', async () => {
    const dir = await tempDir();
    for (const [args, message] of [
      [['--role', 'root'], /--role "root" is not one of platform-admin, tenant-admin, auditor, reader/],
      [['--role', 'reader', '--ttl', '31d'], /longer than 30 days/],
      [['--role', 'reader', '--ttl', '1w'], /not a duration/],
      [['--tenant', 'acme'], /--role is required/],
      [['--role', 'reader', '--tenant', 'Not_A_Tenant'], /not a tenant id/],
      [['--role', 'reader', '--admin'], /unknown argument/],
    ] as const) {
      const result = ecs(dir, 'token', ...args);
      expect([args, result.status]).toEqual([args, 2]);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
  });
});
