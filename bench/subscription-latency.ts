// Live audit subscriptions: commit-to-delivery latency with 1, 100 and 1,000 concurrent
// subscribers (real graphql-ws clients, one websocket each, in a child process) of one
// gateway process, and the events/s one subscriber receives: live while a writer commits
// as fast as it can, and replaying a stored chain (afterSequence: 0).
//
//   npx tsx bench/subscription-latency.ts [--backend=pglite|postgresql] [--events=N] [--interval-ms=N] [--throughput-events=N]
//     [--subscribers=1,100,1000] [--scenarios=latency,throughput] [--cpu-profile=DIR]
//
// --subscribers and --scenarios run a part only; --cpu-profile writes a V8 CPU profile of the
// gateway process and one of the client process for each latency scenario into DIR.
//
// Latency: from the moment the writer's transaction has committed (`$transaction`
// resolved, in the gateway process) to the moment a client has parsed the message, both
// read from the same wall clock (performance.timeOrigin + now()) on one machine.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { appendEvidence, evidenceTransaction } from '../lib/evidence/ledger';
import type { RunningStack } from '../app/stack';
import { backendsFromArgs, checkBackends, environment } from './support/backends';
import { fmt, percentile, table } from './support/report';
import { measureCpu } from './support/resources';
import { registerCleanup, runMain, unregisterCleanup, yieldToEventLoop } from './support/run-main';
import { withStack } from './support/stack';
import type { BenchStack } from './support/stack';
import { workloadAdmission } from './support/workload-admission';
import { startProfile } from './support/cpu-profile';
import { optionText, positiveIntegerOption } from './support/options';

const EVENTS = positiveIntegerOption('events', 100);
const INTERVAL_MS = positiveIntegerOption('interval-ms', 100);
const THROUGHPUT_EVENTS = positiveIntegerOption('throughput-events', 5000);
const SUBSCRIBERS = listOption('subscribers', '1,100,1000').map((text) => {
  const count = Number(text);
  if (!Number.isInteger(count) || count <= 0) throw new Error('--subscribers must be positive integers, comma-separated');
  return count;
});
const SCENARIOS = new Set(listOption('scenarios', 'latency,throughput'));
if ([...SCENARIOS].some((scenario) => scenario !== 'latency' && scenario !== 'throughput')) {
  throw new Error('--scenarios must be latency, throughput or both, comma-separated');
}
const PROFILE_DIR = optionText('cpu-profile');

function listOption(name: string, fallback: string): string[] {
  return (optionText(name) ?? fallback).split(',').filter((item) => item !== '');
}

const wallClock = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Receipts {
  outcome: 'done' | 'timeout';
  receipts: Array<Array<[number, number]>>;
  /** CPU of the client process from `connected` to the last receipt, percent of one core. */
  cpuPercent: number;
  /** The client process's CPU profile (JSON), when the job asked for one. */
  profile?: string;
}

/** Starts the client process; resolves `connected` when every client has its connection_ack. */
function startClients(job: Record<string, unknown>): { connected: Promise<void>; receipts: Promise<Receipts>; child: ChildProcess } {
  const child = fork(path.join(__dirname, 'subscription-clients.ts'), [], {
    execArgv: process.execArgv,
    env: { ...process.env, ECS_BENCH_CLIENTS: JSON.stringify(job) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = async () => {
    child.kill('SIGKILL');
  };
  registerCleanup(kill);
  let connected!: () => void;
  let done!: (receipts: Receipts) => void;
  let failed!: (error: Error) => void;
  const connectedPromise = new Promise<void>((resolve, reject) => {
    connected = resolve;
    failed = reject;
  });
  const receipts = new Promise<Receipts>((resolve, reject) => {
    done = resolve;
    child.once('exit', (code) => reject(new Error(`client process exited with ${String(code)}`)));
    child.on('message', (message: { type: string; message?: string } & Receipts) => {
      if (message.type === 'connected') connected();
      if (message.type === 'receipts') done(message);
      if (message.type === 'failed') {
        const error = new Error(`client process failed: ${message.message ?? ''}`);
        failed(error);
        reject(error);
      }
    });
  });
  receipts.finally(() => unregisterCleanup(kill)).catch(() => undefined);
  return { connected: connectedPromise, receipts, child };
}

async function waitForStreams(stack: RunningStack, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (stack.gateway.stream.size < count) {
    if (Date.now() > deadline) throw new Error(`only ${stack.gateway.stream.size} of ${count} subscriptions registered`);
    await sleep(20);
  }
}

interface LatencyResult {
  subscribers: number;
  deliveries: number;
  expected: number;
  latencies: number[];
  /** Per event: until the last subscriber had it. */
  allDelivered: number[];
  cpu: { processPercent: number; machinePercent: number };
  clientCpuPercent: number;
}

async function latencyScenario(context: BenchStack, subscribers: number): Promise<LatencyResult> {
  const tenantId = `bench-live-${subscribers}`;
  const { stack } = context;
  const clients = startClients({
    url: stack.gateway.url,
    token: await context.token('auditor', tenantId),
    tenantId,
    clients: subscribers,
    expected: EVENTS,
    timeoutMs: EVENTS * INTERVAL_MS + 60_000,
    profile: PROFILE_DIR !== undefined,
  });
  await clients.connected;
  await waitForStreams(stack, subscribers);
  const committedAt = new Map<number, number>();
  const profile = PROFILE_DIR === undefined ? undefined : await startProfile();
  const cpu = measureCpu();
  for (let n = 0; n < EVENTS; n += 1) {
    const event = await evidenceTransaction(stack.services.db, tenantId, (tx) => appendEvidence(tx, workloadAdmission(tenantId, n)));
    committedAt.set(event.sequence, wallClock());
    await sleep(INTERVAL_MS);
  }
  const { receipts, cpuPercent, profile: clientProfile } = await clients.receipts;
  const usage = cpu.stop();
  if (PROFILE_DIR !== undefined && profile) {
    await mkdir(PROFILE_DIR, { recursive: true });
    const name = `${context.kind}-${subscribers}`;
    await writeFile(path.join(PROFILE_DIR, `gateway-${name}.cpuprofile`), await profile.stop());
    if (clientProfile) await writeFile(path.join(PROFILE_DIR, `clients-${name}.cpuprofile`), clientProfile);
  }
  const latencies: number[] = [];
  const lastArrival = new Map<number, number>();
  for (const client of receipts) {
    for (const [sequence, at] of client) {
      const committed = committedAt.get(sequence);
      if (committed === undefined) continue;
      latencies.push(at - committed);
      lastArrival.set(sequence, Math.max(lastArrival.get(sequence) ?? 0, at));
    }
  }
  const allDelivered = [...lastArrival].map(([sequence, at]) => at - committedAt.get(sequence)!);
  return {
    subscribers,
    deliveries: latencies.length,
    expected: subscribers * EVENTS,
    latencies: latencies.sort((a, b) => a - b),
    allDelivered: allDelivered.sort((a, b) => a - b),
    cpu: usage,
    clientCpuPercent: cpuPercent,
  };
}

interface ThroughputResult {
  mode: string;
  events: number;
  received: number;
  seconds: number;
  commitRate?: number;
}

/** Writers of this many tenants commit in parallel for the live throughput scenario. */
const WRITER_TENANTS = 4;

/**
 * One subscriber while writers commit as fast as they can (WRITER_TENANTS tenants in
 * parallel, 100 events per transaction; a platform-wide subscription follows them all), then
 * a replay of one stored chain (afterSequence: 0), which is not limited by a writer.
 */
async function throughputScenarios(context: BenchStack): Promise<ThroughputResult[]> {
  const { stack } = context;
  const tenants = Array.from({ length: WRITER_TENANTS }, (_, t) => `bench-live-throughput-${t}`);
  const perTenant = Math.ceil(THROUGHPUT_EVENTS / WRITER_TENANTS);
  const total = perTenant * WRITER_TENANTS;
  const live = startClients({
    url: stack.gateway.url,
    token: await context.token('auditor', undefined),
    clients: 1,
    expected: total,
    timeoutMs: 600_000,
  });
  await live.connected;
  await waitForStreams(stack, 1);
  const started = wallClock();
  await Promise.all(
    tenants.map(async (tenantId) => {
      for (let n = 0; n < perTenant; n += 100) {
        await evidenceTransaction(stack.services.db, tenantId, async (tx) => {
          for (let i = n; i < Math.min(n + 100, perTenant); i += 1) await appendEvidence(tx, workloadAdmission(tenantId, i));
        });
        await yieldToEventLoop();
      }
    }),
  );
  const committed = wallClock();
  const liveReceipts = (await live.receipts).receipts[0] ?? [];
  const liveEnd = liveReceipts[liveReceipts.length - 1]?.[1] ?? committed;

  // The replay is short: take the median of three clients, one after the other.
  const replayTenant = tenants[0]!;
  const replayRates: number[] = [];
  let replayed = 0;
  for (let round = 0; round < 3; round += 1) {
    const replay = startClients({
      url: stack.gateway.url,
      token: await context.token('auditor', replayTenant),
      tenantId: replayTenant,
      clients: 1,
      expected: perTenant,
      afterSequence: 0,
      timeoutMs: 600_000,
    });
    const receipts = (await replay.receipts).receipts[0] ?? [];
    replayed = receipts.length;
    replayRates.push((receipts.length - 1) / (((receipts[receipts.length - 1]?.[1] ?? 0) - (receipts[0]?.[1] ?? 0)) / 1000));
  }
  const replayRate = [...replayRates].sort((a, b) => a - b)[1]!;
  return [
    {
      mode: `live: ${WRITER_TENANTS} tenants' writers at full speed (100 events/transaction), one platform-wide subscriber`,
      events: total,
      received: liveReceipts.length,
      seconds: (liveEnd - started) / 1000,
      commitRate: total / ((committed - started) / 1000),
    },
    {
      mode: `replay of one stored chain (afterSequence: 0), median of 3 (${replayRates.map((rate) => fmt(rate)).join(' / ')})`,
      events: perTenant,
      received: replayed,
      seconds: replayed / replayRate,
    },
  ];
}

runMain(async () => {
  const backends = backendsFromArgs();
  await checkBackends(backends);
  console.log(`# subscription-latency: ${environment()}`);
  console.log(
    `latency: ${EVENTS} events, one every ${INTERVAL_MS} ms, to ${SUBSCRIBERS.map((count) => fmt(count)).join(', ')} subscribers; throughput: ${THROUGHPUT_EVENTS} events; scenarios: ${[...SCENARIOS].join(', ')}`,
  );
  const latencyRows: string[][] = [];
  const throughputRows: string[][] = [];
  for (const kind of backends) {
    await withStack(kind, { SUBSCRIPTIONS_PER_PRINCIPAL: '5000' }, async (context) => {
      const results: LatencyResult[] = [];
      for (const subscribers of SCENARIOS.has('latency') ? SUBSCRIBERS : []) {
        const result = await latencyScenario(context, subscribers);
        results.push(result);
        console.log(
          `  ${kind} ${subscribers} subscriber(s): p50 ${fmt(percentile(result.latencies, 50), 1)} ms, p99 ${fmt(percentile(result.latencies, 99), 1)} ms, max ${fmt(result.latencies[result.latencies.length - 1] ?? NaN, 1)} ms, all had it p50/p99 ${fmt(percentile(result.allDelivered, 50), 1)}/${fmt(percentile(result.allDelivered, 99), 1)} ms (${fmt(result.deliveries)}/${fmt(result.expected)} delivered), CPU gateway ${fmt(result.cpu.processPercent)}% clients ${fmt(result.clientCpuPercent)}% machine ${fmt(result.cpu.machinePercent)}%`,
        );
      }
      const base = percentile(results[0]?.latencies ?? [], 50);
      for (const result of results) {
        latencyRows.push([
          kind,
          fmt(result.subscribers),
          `${fmt(result.deliveries)} / ${fmt(result.expected)}`,
          fmt(percentile(result.latencies, 50), 1),
          fmt(percentile(result.latencies, 99), 1),
          fmt(result.latencies[result.latencies.length - 1] ?? NaN, 1),
          fmt(percentile(result.allDelivered, 50), 1),
          fmt(percentile(result.allDelivered, 99), 1),
          `${fmt(percentile(result.latencies, 50) / base, 1)}x`,
          `${fmt(result.cpu.processPercent)}%`,
          `${fmt(result.clientCpuPercent)}%`,
          `${fmt(result.cpu.machinePercent)}%`,
        ]);
      }
      for (const result of SCENARIOS.has('throughput') ? await throughputScenarios(context) : []) {
        throughputRows.push([
          kind,
          result.mode,
          `${fmt(result.received)} / ${fmt(result.events)}`,
          fmt(result.seconds, 2),
          fmt(result.received / result.seconds),
          result.commitRate === undefined ? '-' : fmt(result.commitRate),
        ]);
        console.log(`  ${kind} ${result.mode}: ${fmt(result.received / result.seconds)} events/s`);
      }
    });
  }
  if (latencyRows.length > 0) {
    console.log('\n### commit-to-delivery latency\n');
    console.log(
      table(
        [
          'backend',
          'subscribers',
          'delivered',
          'p50 ms',
          'p99 ms',
          'max ms',
          'all had it p50 ms',
          'all had it p99 ms',
          `p50 vs ${fmt(SUBSCRIBERS[0] ?? 1)}`,
          'gateway CPU',
          'client CPU',
          'machine CPU',
        ],
        latencyRows,
      ),
    );
  }
  if (throughputRows.length > 0) {
    console.log('\n### one subscriber\n');
    console.log(table(['backend', 'mode', 'received', 'seconds', 'events/s received', 'events/s committed'], throughputRows));
  }
  const missing = latencyRows.filter((row) => row[2]!.split(' / ')[0] !== row[2]!.split(' / ')[1]);
  if (missing.length) {
    console.error(`\n[bench] some events were not delivered: ${missing.map((row) => `${row[0]} ${row[1]}`).join(', ')}`);
    process.exitCode = 1;
  }
});
