import { createHash } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { devIssuerFile, loadDevIssuer } from '../../lib/auth/dev-issuer';
import { killAllServerProcesses, pollReadyz, startServerProcess } from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { createTestDatabase } from '../../testkit/test-database';
import { startPrivateRedis } from '../support/private-redis';
import type { PrivateRedis } from '../support/private-redis';
import { uniqueId } from '../support/test-stack';

/**
 * Two real gateway processes (`npm start`) share their request counters through Redis
 * (REDIS_URL). On the `postgres` project both use one fresh database and one DATA_DIR; on
 * the embedded database each has its own DATA_DIR (the embedded database belongs to one
 * process) and both trust the same development issuer key, so one token is one principal.
 */
jest.setTimeout(180_000);

const SHARED_REDIS_URL = process.env.ECS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PER_MINUTE = 5;
const OUTAGE_LOG = /rate limit store \(Redis\) unreachable/g;

interface Replicas {
  servers: StartedServer[];
  /** `Authorization` of a platform administrator with this subject (one principal per subject). */
  headers(subject: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

async function startReplicas(env: Record<string, string>): Promise<Replicas> {
  const database = await createTestDatabase();
  const dirs = [await makeTempDir('ecs-rl-redis-')];
  if (!database.databaseUrl) dirs.push(await makeTempDir('ecs-rl-redis-'));
  const issuer = await loadDevIssuer(devIssuerFile(dirs[0]!.path));
  for (const dir of dirs.slice(1)) {
    await mkdir(path.dirname(devIssuerFile(dir.path)), { recursive: true });
    await copyFile(devIssuerFile(dirs[0]!.path), devIssuerFile(dir.path));
  }
  const servers: StartedServer[] = [];
  const stop = async (): Promise<void> => {
    for (const server of servers) await server.stop('SIGTERM');
    await killAllServerProcesses();
    await database.drop();
    for (const dir of dirs) await dir.remove();
  };
  try {
    // One after the other: on PostgreSQL the first creates the schema and keys the second shares.
    for (const n of [0, 1]) {
      const dir = dirs[n % dirs.length]!;
      const databaseEnv: Record<string, string> = database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {};
      servers.push(await startServerProcess({ env: { DATA_DIR: dir.path, ...databaseEnv, ...env } }));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    servers,
    headers: async (subject) => {
      const token = await issuer.mint({ subject, roles: ['platform-admin'], audience: 'ecs-gateway', ttlSeconds: 600 });
      return { authorization: `Bearer ${token}` };
    },
    stop,
  };
}

interface Answer {
  status: number;
  remaining: string | null;
  retryAfter: string | null;
  body: unknown;
  ms: number;
}

/** `count` requests of one principal, alternating between the replicas, one at a time. */
async function alternate(replicas: Replicas, subject: string, count: number): Promise<Answer[]> {
  const headers = await replicas.headers(subject);
  const answers: Answer[] = [];
  for (let n = 0; n < count; n += 1) {
    const started = Date.now();
    const response = await fetch(`${replicas.servers[n % 2]!.origin}/v1/tenants`, { headers, signal: AbortSignal.timeout(10_000) });
    answers.push({
      status: response.status,
      remaining: response.headers.get('x-ratelimit-remaining'),
      retryAfter: response.headers.get('retry-after'),
      body: await response.json(),
      ms: Date.now() - started,
    });
  }
  return answers;
}

const LIMITED_BODY = { code: 'ECS_RATE_LIMITED', message: expect.any(String) };

/** An automatic persisted query sent to one replica: the hash, with the document when `register`. */
async function persistedQuery(server: StartedServer, headers: Record<string, string>, text: string, register: boolean): Promise<unknown> {
  const sha256Hash = createHash('sha256').update(text).digest('hex');
  const response = await fetch(`${server.origin}/graphql`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ ...(register ? { query: text } : {}), extensions: { persistedQuery: { version: 1, sha256Hash } } }),
    signal: AbortSignal.timeout(10_000),
  });
  return response.json();
}

const NOT_FOUND = { errors: [expect.objectContaining({ message: 'PersistedQueryNotFound' })] };

describe('rate limits shared through Redis by two gateway processes', () => {
  const keyPrefix = uniqueId('ecs-test-rl');
  let replicas: Replicas | undefined;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(SHARED_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    replicas = await startReplicas({
      REDIS_URL: SHARED_REDIS_URL,
      RATE_LIMIT_REDIS_PREFIX: keyPrefix,
      RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000',
    });
  });
  afterAll(async () => {
    await replicas?.stop();
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('count one principal across both: the sixth request overall is 429 with the error body', async () => {
    const answers = await alternate(replicas!, uniqueId('user'), PER_MINUTE + 2);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(answers.map((answer) => answer.remaining)).toEqual(['4', '3', '2', '1', '0', '0', '0']);
    for (const limited of answers.slice(PER_MINUTE)) {
      expect(limited.body).toEqual(LIMITED_BODY);
      expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    }
    // The counters are in Redis, under this run's prefix.
    expect(await redis.keys(`${keyPrefix}:principal:*`)).toHaveLength(1);
  });

  it('share automatic persisted queries: registered through one, run by hash through the other', async () => {
    const [first, second] = replicas!.servers;
    const headers = await replicas!.headers(uniqueId('apq'));
    const text = `query Shared${uniqueId('q').replace(/\W/g, '')} { __typename }`;
    expect(await persistedQuery(second!, headers, text, false)).toEqual(NOT_FOUND);
    expect(await persistedQuery(first!, headers, text, true)).toEqual({ data: { __typename: 'Query' } });
    const digest = createHash('sha256').update(text).digest('hex');
    // Apollo registers the document after answering; the second replica finds it once it is in Redis.
    for (let tries = 0; tries < 50 && (await redis.get(`${keyPrefix}:apq:${digest}`)) === null; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await redis.get(`${keyPrefix}:apq:${digest}`)).toBe(text);
    expect(await persistedQuery(second!, headers, text, false)).toEqual({ data: { __typename: 'Query' } });
  });

  it('never run a shared document under a hash that is not its own', async () => {
    const headers = await replicas!.headers(uniqueId('apq'));
    const asked = `query Asked${uniqueId('q').replace(/\W/g, '')} { __typename }`;
    const digest = createHash('sha256').update(asked).digest('hex');
    await redis.set(`${keyPrefix}:apq:${digest}`, 'query Planted { tenants { items { id } } }', 'EX', 60);
    expect(await persistedQuery(replicas!.servers[1]!, headers, asked, false)).toEqual(NOT_FOUND);
  });
});

describe('rate limits while Redis is down', () => {
  let replicas: Replicas | undefined;
  let redis: PrivateRedis | undefined;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    replicas = await startReplicas({
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000',
      // The outage's end is logged at info.
      LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    await replicas?.stop();
    await redis?.kill();
  });

  it('are shared while it is up, then counted by each process in memory: requests are served, limited and never wait', async () => {
    const shared = await alternate(replicas!, uniqueId('user'), PER_MINUTE + 1);
    expect(shared.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 429]);

    await redis!.kill();
    // Each process allows the limit on its own: ten requests alternated are served, then 429.
    const alone = await alternate(replicas!, uniqueId('user'), 2 * PER_MINUTE + 2);
    expect(alone.map((answer) => answer.status)).toEqual([...Array(2 * PER_MINUTE).fill(200), 429, 429]);
    expect(alone.map((answer) => answer.remaining)).toEqual(['4', '4', '3', '3', '2', '2', '1', '1', '0', '0', '0', '0']);
    expect(alone.slice(-2).map((answer) => answer.body)).toEqual([LIMITED_BODY, LIMITED_BODY]);
    expect(Math.max(...alone.map((answer) => answer.ms))).toBeLessThan(3000);

    // Automatic persisted queries keep working in each process on its own.
    const apq = await replicas!.headers(uniqueId('apq'));
    const text = `query Alone${uniqueId('q').replace(/\W/g, '')} { __typename }`;
    expect(await persistedQuery(replicas!.servers[0]!, apq, text, true)).toEqual({ data: { __typename: 'Query' } });
    expect(await persistedQuery(replicas!.servers[0]!, apq, text, false)).toEqual({ data: { __typename: 'Query' } });

    // Readiness does not depend on Redis.
    for (const server of replicas!.servers) {
      expect((await pollReadyz(server.origin, Date.now())).status).toBe(200);
    }
    // Reconnection attempts go on; the outage is logged once per process, not per attempt or request.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (const server of replicas!.servers) expect(server.stdout().match(OUTAGE_LOG)).toHaveLength(1);
  });

  it('are shared again once it is back', async () => {
    await redis!.start();
    for (const server of replicas!.servers) await server.waitForOutput(/rate limit store \(Redis\) reachable again/, 20_000);
    const answers = await alternate(replicas!, uniqueId('user'), PER_MINUTE + 1);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 429]);
  });
});
