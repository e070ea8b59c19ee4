// What a governed action costs next to a plain read, end to end through the gateway over
// HTTP (the whole stack in this process, `startStack`): requests/s of
//   - `GET /v1/tenants/{id}`, a read that writes no evidence (the baseline),
//   - `POST /v1/workloads`: admission (authority, policy) and a `workload.admit` event,
//   - `GET /v1/storage/{bucket}/objects/{key}` of a 1 KB object: `object.get` and
//     `data.usage.receipt` events,
//   - `PUT /v1/storage/{bucket}/objects/{key}` of a new 1 KB object (fresh bytes each time):
//     hashed, fsynced, an `object.put` event,
// each as a ratio of the GET tenant rate of the same run.
//
//   npm run bench -- governed-actions [--backend=pglite|postgresql] [--seconds=3] [--rounds=3] [--concurrency=16] [--tenants=4]
//     [--only=tenant,workload,get,put] [--cpu-profile=DIR]
//
// `--only` measures the named operations only (the GET tenant baseline always runs, so the
// ratios stay); `--cpu-profile` writes a V8 CPU profile of this process's main thread for each
// measured round of each operation into DIR/<backend>-<operation>-<round>.cpuprofile.
//
// `--concurrency` keep-alive clients (tenant-admins, spread over `--tenants` tenants, one
// evidence chain each) send requests back to back. Each round runs every operation for
// `--seconds`, the operations interleaved (round 1 of each, then round 2, ... the order
// rotating), and the reported rate is the median of the rounds, so a burst of background
// load does not land on one operation only. Rate limits are raised so they never trigger.
// Any non-2xx answer is an error; the run fails if there was one, or if a tenant's chain
// does not verify afterwards (`verifyChain`).
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { verifyChain } from '../subgraphs/audit/data/chain';
import type { ChainVerification } from '../subgraphs/audit/data/chain';
import type { DatabaseKind } from '../lib/db/database';
import { governance } from '../testkit/governance';
import { backendsFromArgs, checkBackends, environment, postgresVersion } from './support/backends';
import { fmt, now, percentile, table } from './support/report';
import { runMain } from './support/run-main';
import { withStack } from './support/stack';
import type { BenchStack } from './support/stack';
import { startProfile } from './support/cpu-profile';
import { optionText, positiveIntegerOption } from './support/options';

const SECONDS = positiveIntegerOption('seconds', 3);
const ROUNDS = positiveIntegerOption('rounds', 3);
const CONCURRENCY = positiveIntegerOption('concurrency', 16);
const TENANTS = positiveIntegerOption('tenants', 4);
const WARM_UP_SECONDS = 1;
const OBJECT_BYTES = 1024;
const OPERATION_KEYS = ['tenant', 'workload', 'get', 'put'] as const;
const ONLY = optionText('only')?.split(',').filter(Boolean);
const PROFILE_DIR = optionText('cpu-profile');
const IMAGE_REF = `registry.example.eu/bench/app@sha256:${'ab'.repeat(32)}`;

/** One request of an operation by client `client`, its answer read whole; `error` describes a failure. */
type Call = (client: number) => Promise<{ ok: boolean; error?: string }>;

interface Operation {
  key: (typeof OPERATION_KEYS)[number];
  name: string;
  call: Call;
  rates: number[];
  latencies: number[];
  errors: number;
  firstErrors: string[];
}

interface BackendResult {
  kind: DatabaseKind;
  operations: Operation[];
  chains: ChainVerification[];
  note: string;
}

/** Reads the whole answer; a non-2xx is an error, described by its status and the start of its body. */
async function settle(response: Dispatcher.ResponseData, expectedBytes?: number): Promise<{ ok: boolean; error?: string }> {
  const ok = response.statusCode >= 200 && response.statusCode < 300;
  const body = Buffer.from(await response.body.arrayBuffer());
  if (!ok) return { ok, error: `${response.statusCode} ${body.toString('utf8', 0, 300)}` };
  if (expectedBytes !== undefined && body.length !== expectedBytes)
    return { ok: false, error: `${body.length} bytes, not ${expectedBytes}` };
  return { ok };
}

/** `CONCURRENCY` clients call back to back for `seconds`; returns the 2xx answers per second. */
async function measure(operation: Operation, seconds: number, record: boolean): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  const client = async (index: number) => {
    while (Date.now() < until) {
      const started = now();
      const result = await operation.call(index).catch((error: unknown) => ({ ok: false, error: String(error) }));
      if (!record) continue;
      operation.latencies.push(now() - started);
      if (result.ok) done += 1;
      else {
        operation.errors += 1;
        if (operation.firstErrors.length < 3) operation.firstErrors.push(result.error ?? 'failed');
      }
    }
  };
  const started = now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, index) => client(index)));
  return done / ((now() - started) / 1000);
}

/** One measured round of an operation, profiled into `PROFILE_DIR` when asked. */
async function measureRound(kind: DatabaseKind, operation: Operation, round: number): Promise<number> {
  if (PROFILE_DIR === undefined) return measure(operation, SECONDS, true);
  const profile = await startProfile();
  const rate = await measure(operation, SECONDS, true);
  await mkdir(PROFILE_DIR, { recursive: true });
  await writeFile(path.join(PROFILE_DIR, `${kind}-${operation.key}-${round + 1}.cpuprofile`), await profile.stop());
  return rate;
}

async function benchBackend({ kind, stack, databaseUrl, token }: BenchStack): Promise<BackendResult> {
  const base = stack.gateway.url;
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  try {
    const json = { 'content-type': 'application/json' };
    const admin = { authorization: `Bearer ${await token('platform-admin', undefined)}`, ...json };
    const setup = async (method: 'POST' | 'PUT', url: string, headers: Record<string, string>, body: string | Buffer) => {
      const response = await request(`${base}${url}`, { method, headers, body, dispatcher: agent });
      const result = await settle(response);
      if (!result.ok) throw new Error(`${method} ${url}: ${result.error}`);
    };
    const tenants = Array.from({ length: TENANTS }, (_, t) => `bench-governed-${t}`);
    const auth: Record<string, string>[] = [];
    for (const tenant of tenants) {
      const body = { id: tenant, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' };
      await setup('POST', '/v1/tenants', admin, JSON.stringify(body));
      const headers = { authorization: `Bearer ${await token('tenant-admin', tenant)}` };
      auth.push(headers);
      await setup('PUT', `/v1/storage/${tenant}`, { ...headers, ...json }, JSON.stringify({ jurisdiction: 'DE' }));
      const object = randomBytes(OBJECT_BYTES);
      await setup('PUT', `/v1/storage/${tenant}/objects/read-1k`, { ...headers, ...governance(object) }, object);
    }
    const tenantOf = (client: number) => tenants[client % TENANTS]!;
    const authOf = (client: number) => auth[client % TENANTS]!;
    let written = 0;

    const calls: Array<[Operation['key'], string, Call]> = [
      [
        'tenant',
        'GET /v1/tenants/{id}',
        async (client) => settle(await request(`${base}/v1/tenants/${tenantOf(client)}`, { headers: authOf(client), dispatcher: agent })),
      ],
      [
        'workload',
        'POST /v1/workloads',
        async (client) => {
          const body = { tenant_id: tenantOf(client), envelope_type: 'container', image_ref: IMAGE_REF, jurisdiction: 'DE' };
          const headers = { ...authOf(client), ...json };
          return settle(await request(`${base}/v1/workloads`, { method: 'POST', headers, body: JSON.stringify(body), dispatcher: agent }));
        },
      ],
      [
        'get',
        'GET object (1 KB)',
        async (client) =>
          settle(
            await request(`${base}/v1/storage/${tenantOf(client)}/objects/read-1k`, { headers: authOf(client), dispatcher: agent }),
            OBJECT_BYTES,
          ),
      ],
      [
        'put',
        'PUT object (1 KB, new key)',
        async (client) => {
          const object = randomBytes(OBJECT_BYTES);
          written += 1;
          const url = `${base}/v1/storage/${tenantOf(client)}/objects/written-${client}-${written}`;
          const headers = { ...authOf(client), ...governance(object, { 'content-type': 'application/octet-stream' }) };
          return settle(await request(url, { method: 'PUT', headers, body: object, dispatcher: agent }));
        },
      ],
    ];
    const operations: Operation[] = calls
      .filter(([key]) => key === 'tenant' || ONLY === undefined || ONLY.includes(key))
      .map(([key, name, call]) => ({ key, name, call, rates: [], latencies: [], errors: 0, firstErrors: [] }));

    for (const operation of operations) await measure(operation, WARM_UP_SECONDS, false);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let i = 0; i < operations.length; i += 1) {
        const operation = operations[(i + round) % operations.length]!;
        operation.rates.push(await measureRound(kind, operation, round));
      }
      console.log(
        `  ${kind} round ${round + 1}: ${operations.map((operation) => `${operation.name} ${fmt(operation.rates[round]!)}/s`).join(', ')}`,
      );
    }

    const chains: ChainVerification[] = [];
    for (const tenantId of tenants) chains.push(await verifyChain({ db: stack.services.db, tenantId }));
    const note = databaseUrl ? await postgresVersion(databaseUrl) : 'PGlite (in this process)';
    return { kind, operations, chains, note };
  } finally {
    await agent.close();
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

function rows({ kind, operations }: BackendResult): string[][] {
  const baseline = median(operations[0]!.rates);
  return operations.map((operation) => {
    const latencies = [...operation.latencies].sort((a, b) => a - b);
    return [
      kind,
      operation.name,
      fmt(latencies.length),
      fmt(median(operation.rates)),
      `${fmt(Math.min(...operation.rates))}-${fmt(Math.max(...operation.rates))}`,
      `${fmt(median(operation.rates) / baseline, 2)}x`,
      fmt(percentile(latencies, 50), 1),
      fmt(percentile(latencies, 95), 1),
      fmt(percentile(latencies, 99), 1),
      fmt(operation.errors),
    ];
  });
}

runMain(async () => {
  const unknown = (ONLY ?? []).filter((key) => !(OPERATION_KEYS as readonly string[]).includes(key));
  if (unknown.length) throw new Error(`--only names no operation: ${unknown.join(', ')} (known: ${OPERATION_KEYS.join(', ')})`);
  const backends = backendsFromArgs();
  await checkBackends(backends);
  console.log(`# governed-actions: ${environment()}`);
  console.log(
    `${CONCURRENCY} keep-alive clients over ${TENANTS} tenants, ${ROUNDS} interleaved rounds of ${SECONDS} s per operation ` +
      `(+ ${WARM_UP_SECONDS} s warm-up each)`,
  );
  const results: BackendResult[] = [];
  for (const kind of backends) results.push(await withStack(kind, {}, benchBackend));

  console.log('\n### governed-actions results\n');
  console.log(
    table(
      ['backend', 'operation', 'requests', 'req/s (median)', 'rounds min-max', 'vs GET tenant', 'p50 ms', 'p95 ms', 'p99 ms', 'errors'],
      results.flatMap(rows),
    ),
  );
  console.log(
    '\nreq/s: 2xx answers per second of all clients together, median of the rounds; the ratio compares medians of the ' +
      'same backend; latency: one request, sent until its whole answer is read, over all rounds.',
  );
  for (const { kind, note, chains } of results) {
    const events = chains.reduce((sum, chain) => sum + chain.checked, 0);
    const valid = chains.filter((chain) => chain.valid).length;
    console.log(`- ${kind}: ${note}; ${valid}/${chains.length} tenant chains valid (${fmt(events)} events verified)`);
  }

  const failures = results.flatMap(({ kind, operations, chains }) => [
    ...operations.flatMap((operation) =>
      operation.errors ? [`${kind} / ${operation.name}: ${operation.errors} error(s), first: ${operation.firstErrors.join(' | ')}`] : [],
    ),
    ...chains.flatMap((chain) =>
      chain.valid ? [] : [`${kind} / chain of ${chain.tenantId} invalid at ${chain.firstBadSequence}: ${chain.reason}`],
    ),
  ]);
  if (failures.length) throw new Error(`\n${failures.join('\n')}`);
});
