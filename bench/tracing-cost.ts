// The cost of tracing: two real `npm start` stacks (cli/start.ts processes) on PostgreSQL,
// one with OpenTelemetry off and one exporting every span with OTLP/HTTP to a receiver in
// this process, measured in the same run with autocannon, rounds interleaved:
// `tenant(id)` through the gateway (one plane) and `POST /v1/workloads` (an admission: two
// planes and the evidence append).
//
//   npx tsx bench/tracing-cost.ts [--seconds=N] [--rounds=N] [--connections=N]
//
// Rate limits are raised so that none answers 429. Not part of the tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { adminHeaders, killAllServerProcesses, pollReadyz, postGraphQL, startServerProcess } from '../testkit/spawn-server';
import type { StartedServer } from '../testkit/spawn-server';
import { makeTempDir } from '../testkit/temp-dir';
import { createTestDatabase } from '../testkit/test-database';
import type { TestDatabase } from '../testkit/test-database';
import { positiveIntegerOption } from './support/options';
import { environment } from './support/backends';
import { fmt, table } from './support/report';
import { runMain } from './support/run-main';

const SECONDS = positiveIntegerOption('seconds', 8);
const ROUNDS = positiveIntegerOption('rounds', 3);
const CONNECTIONS = positiveIntegerOption('connections', 16);
const PINNED_IMAGE = `registry.example.eu/app@sha256:${'ab'.repeat(32)}`;
const RAISED_LIMITS = {
  RATE_LIMIT_PER_MINUTE: '1000000',
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000',
  LOG_LEVEL: 'warn',
};

interface Stack {
  label: string;
  server: StartedServer;
  headers: Record<string, string>;
  tenantId: string;
  database: TestDatabase;
  dataDir: { path: string; remove(): Promise<void> };
}

/** An OTLP/HTTP receiver that counts what it is sent and keeps nothing. */
async function spanSink(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startStack(label: string, env: Record<string, string>): Promise<Stack> {
  const dataDir = await makeTempDir('ecs-bench-trace-');
  const database = await createTestDatabase();
  const server = await startServerProcess({
    env: { DATA_DIR: dataDir.path, DATABASE_URL: database.databaseUrl!, ...RAISED_LIMITS, ...env },
  });
  await pollReadyz(server.origin, Date.now() + 60_000);
  const headers = await adminHeaders(dataDir.path);
  const tenantId = `bench-${label}`;
  const created = await postGraphQL(
    server.origin,
    'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
    { input: { id: tenantId, authorityBinding: 'auth-dev-001', jurisdiction: 'DE', policyBaseline: 'ecs-baseline-v1' } },
    headers,
  );
  if (created.body.errors) throw new Error(`tenant not created: ${JSON.stringify(created.body.errors)}`);
  return { label, server, headers, tenantId, database, dataDir };
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
}

function fire(options: autocannon.Options): Promise<Measured> {
  return new Promise((resolve, reject) => {
    autocannon({ ...options, connections: CONNECTIONS, duration: SECONDS, workers: 1 }, (error: unknown, result: autocannon.Result) => {
      if (error) return reject(error instanceof Error ? error : new Error(String(error)));
      resolve({
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        failures: result.non2xx + result.errors + result.timeouts,
      });
    });
  });
}

const scenarios = {
  'tenant(id) (one plane)': (stack: Stack): autocannon.Options => ({
    url: `${stack.server.origin}/graphql`,
    method: 'POST',
    headers: { ...stack.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query($id: ID!) { tenant(id: $id) { id status jurisdiction } }', variables: { id: stack.tenantId } }),
  }),
  'POST /v1/workloads (admission)': (stack: Stack): autocannon.Options => ({
    url: `${stack.server.origin}/v1/workloads`,
    method: 'POST',
    headers: { ...stack.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: stack.tenantId, envelope_type: 'container', image_ref: PINNED_IMAGE }),
  }),
};

runMain(async () => {
  console.log(`# tracing-cost: ${environment()}, ${CONNECTIONS} connections, ${SECONDS} s x ${ROUNDS} rounds`);
  const sink = await spanSink();
  const stacks: Stack[] = [];
  try {
    stacks.push(await startStack('off', {}));
    stacks.push(await startStack('on', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: '1000' }));
    const results = new Map<string, Measured[]>();
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const [name, request] of Object.entries(scenarios)) {
        for (const stack of stacks) {
          const measured = await fire(request(stack));
          const key = `${name}|${stack.label}`;
          results.set(key, [...(results.get(key) ?? []), measured]);
          console.log(
            `  round ${round} ${name} tracing ${stack.label}: ${fmt(measured.rps)} req/s, p50 ${measured.p50} ms, p99 ${measured.p99} ms, failures ${measured.failures}`,
          );
        }
      }
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const rows = Object.keys(scenarios).map((name) => {
      const [off, on] = ['off', 'on'].map((label) => results.get(`${name}|${label}`)!);
      const [offRps, onRps] = [median(off!.map((m) => m.rps)), median(on!.map((m) => m.rps))];
      return [
        name,
        fmt(offRps),
        fmt(onRps),
        fmt(onRps / offRps, 2),
        `${median(off!.map((m) => m.p99))} / ${median(on!.map((m) => m.p99))}`,
        String([...off!, ...on!].reduce((sum, m) => sum + m.failures, 0)),
      ];
    });
    console.log('\n### tracing-cost (medians of the rounds)\n');
    console.log(table(['request', 'req/s tracing off', 'req/s tracing on', 'on/off', 'p99 ms off / on', 'failures'], rows));
    console.log(`\nOTLP export requests received: ${sink.requests()}`);
  } finally {
    await killAllServerProcesses();
    for (const stack of stacks) {
      await stack.database.drop();
      await stack.dataDir.remove();
    }
    await sink.close();
  }
});
