import path from 'node:path';
import { ConfigError, loadConfig } from '../../lib/config/config';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 4000,
      dataDir: path.resolve('.data'),
      databaseUrl: undefined,
      tlsFiles: undefined,
      pkiDir: path.resolve('.data', 'pki'),
    });
    expect(config.subgraphUrls.control).toBe('https://127.0.0.1:4102/graphql');
    expect(config.migration).toEqual({ jurisdictions: undefined, importMaxBytes: 16 * 1024 ** 3 });
    expect(loadConfig({ MIGRATION_JURISDICTIONS: 'FR, EU' }).migration.jurisdictions).toEqual(['FR', 'EU']);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT: /],
    [{ PORT: '70000' }, /^PORT: /],
    [{ NODE_ENV: 'staging' }, /^NODE_ENV: /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: .*postgresql/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ SUBGRAPH_TIMEOUT_MS: '0' }, /^SUBGRAPH_TIMEOUT_MS: /],
    [{ SUBGRAPH_URLS: 'billing=https://x:1/graphql' }, /^SUBGRAPH_URLS: .*billing/],
    [{ SUBGRAPH_URLS: 'control=http://x:1/graphql' }, /^SUBGRAPH_URLS: /],
    [{ TLS_CA_FILE: '/ca.pem' }, /^TLS_SERVER_CERT_FILE, .*: set all of/],
    [{ API_SUNSET: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10) }, /^API_SUNSET: must be at least six months ahead/],
    [{ API_SUNSET: 'soon' }, /^API_SUNSET: /],
    [{ REDIS_URL: 'redis.internal:6379' }, /^REDIS_URL: a redis:\/\/ or rediss:\/\/ URL/],
    [{ RATE_LIMIT_REDIS_PREFIX: 'ecs rl' }, /^RATE_LIMIT_REDIS_PREFIX: /],
    [{ MIGRATION_JURISDICTIONS: 'DE,XX' }, /^MIGRATION_JURISDICTIONS: /],
  ])('rejects %j with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reads subgraph URLs and TLS files', () => {
    const config = loadConfig({
      SUBGRAPH_URLS: 'audit=https://audit.internal:9443/graphql, data=https://10.0.0.5:4104/graphql',
      TLS_CA_FILE: '/pki/ca.pem',
      TLS_SERVER_CERT_FILE: '/pki/server.pem',
      TLS_SERVER_KEY_FILE: '/pki/server-key.pem',
      TLS_CLIENT_CERT_FILE: '/pki/client.pem',
      TLS_CLIENT_KEY_FILE: '/pki/client-key.pem',
      DATABASE_URL: 'postgresql://ecs@db:5432/ecs',
    });
    expect(config.subgraphUrls.audit).toBe('https://audit.internal:9443/graphql');
    expect(config.subgraphUrls.data).toBe('https://10.0.0.5:4104/graphql');
    expect(config.subgraphUrls.identity).toBe('https://127.0.0.1:4101/graphql');
    expect(config.tlsFiles?.clientKeyFile).toBe('/pki/client-key.pem');
    expect(config.databaseUrl).toBe('postgresql://ecs@db:5432/ecs');
  });

  it('reads the rate limits and the Redis they are shared through', () => {
    expect(loadConfig({}).rateLimit).toEqual({ perPrincipal: 600, perAddress: 1200, redisUrl: undefined, redisKeyPrefix: 'ecs-rl' });
    const config = loadConfig({ REDIS_URL: 'rediss://:secret@redis.internal:6380/2', RATE_LIMIT_REDIS_PREFIX: 'eu-west:ecs' });
    expect(config.rateLimit).toMatchObject({ redisUrl: 'rediss://:secret@redis.internal:6380/2', redisKeyPrefix: 'eu-west:ecs' });
  });

  it('reads the persisted-operation manifest and the safelist, which needs one', () => {
    expect(loadConfig({}).persistedOperations).toEqual({ manifestFile: undefined, only: false });
    expect(loadConfig({ GRAPHQL_PERSISTED_MANIFEST: 'ops.json', GRAPHQL_PERSISTED_ONLY: 'true' }).persistedOperations).toEqual({
      manifestFile: path.resolve('ops.json'),
      only: true,
    });
    expect(() => loadConfig({ GRAPHQL_PERSISTED_ONLY: 'true' })).toThrow(
      /^GRAPHQL_PERSISTED_MANIFEST: required when GRAPHQL_PERSISTED_ONLY=true/,
    );
    expect(() => loadConfig({ GRAPHQL_PERSISTED_ONLY: 'yes' })).toThrow(/^GRAPHQL_PERSISTED_ONLY: must be true or false/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 4000, databaseUrl: undefined });
  });
});
