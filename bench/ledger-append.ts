// Evidence append throughput: N tenants (one chain each) with one sequential writer per
// tenant, each event in its own interactive transaction, exactly as the planes append
// (`db.prisma.$transaction(tx => appendEvidence(tx, ...))`); plus 64 writers on ONE
// tenant, where the chain-head row lock serialises every append.
//
//   npx tsx bench/ledger-append.ts [--backend=pglite|postgresql] [--events=N] [--pglite-events=N]
//
// After each scenario the chains of a few tenants are verified (`verifyChain`); the run
// fails if a chain is invalid or does not hold exactly the events that were committed.
import { appendEvidence } from '../lib/evidence/ledger';
import { verifyChain } from '../subgraphs/audit/data/chain';
import {
  backendsFromArgs,
  checkBackends,
  environment,
  fmt,
  measureCpu,
  now,
  percentile,
  postgresVersion,
  runMain,
  sampleLockWaits,
  table,
  withBackend,
  workloadAdmission,
  yieldToEventLoop,
} from './support';
import type { Backend, DatabaseKind } from './support';

interface Scenario {
  name: string;
  tenants: number;
  writersPerTenant: number;
}

const SCENARIOS: Scenario[] = [
  { name: '1 tenant, 1 writer', tenants: 1, writersPerTenant: 1 },
  { name: '8 tenants, 1 writer each', tenants: 8, writersPerTenant: 1 },
  { name: '64 tenants, 1 writer each', tenants: 64, writersPerTenant: 1 },
  { name: '1 tenant, 64 writers', tenants: 1, writersPerTenant: 64 },
];

function numberArg(name: string, fallback: number): number {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  const value = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

/** Timed events per scenario (warm-up events come on top). */
const EVENTS: Record<DatabaseKind, number> = {
  postgresql: numberArg('events', 2000),
  pglite: numberArg('pglite-events', 2000),
};

/** Pool size of the PostgreSQL client: the application default. */
const POOL_SIZE = 10;
/** Stop a scenario after this many failed appends. */
const MAX_ERRORS = 100;

interface ScenarioResult {
  scenario: Scenario;
  events: number;
  seconds: number;
  latencies: number[];
  errors: string[];
  lockWaits?: { max: number; mean: number };
  cpu: { processPercent: number; machinePercent: number };
  verified: string;
}

async function runScenario(backend: Backend, index: number, scenario: Scenario): Promise<ScenarioResult> {
  const { db } = backend;
  const tenants = Array.from({ length: scenario.tenants }, (_, t) => `bench-s${index}-t${String(t).padStart(2, '0')}`);
  const committed = new Map(tenants.map((tenant) => [tenant, 0]));
  const errors: string[] = [];
  let n = 0;

  const appendOne = async (tenant: string, timed: boolean, latencies?: number[]) => {
    const started = now();
    try {
      // Let timers, I/O and the other writers in first (on PGlite a transaction otherwise
      // runs to its end in microtasks); the wait for a turn counts in the latency.
      if (timed) await yieldToEventLoop();
      await db.prisma.$transaction((tx) => appendEvidence(tx, workloadAdmission(tenant, n++)));
      committed.set(tenant, committed.get(tenant)! + 1);
      if (timed) latencies?.push(now() - started);
    } catch (error) {
      const message = String((error as Error).message ?? error).replace(/\s+/g, ' ').slice(0, 300);
      errors.push(`${timed ? '' : '(warm-up) '}${tenant}: ${message}`);
    }
  };

  // Warm-up: every writer appends 2 events (creates the chain heads, fills the pool).
  const writers = tenants.flatMap((tenant) => Array.from({ length: scenario.writersPerTenant }, () => tenant));
  await Promise.all(writers.map(async (tenant) => {
    for (let i = 0; i < 2; i++) await appendOne(tenant, false);
  }));

  // Timed: a fixed number of events shared by all writers; each writer appends sequentially.
  const latencies: number[] = [];
  let remaining = EVENTS[backend.kind];
  const lockSampler = backend.databaseUrl ? await sampleLockWaits(backend.databaseUrl) : undefined;
  const cpu = measureCpu();
  const started = now();
  await Promise.all(writers.map(async (tenant) => {
    while (remaining > 0 && errors.length < MAX_ERRORS) {
      remaining -= 1;
      await appendOne(tenant, true, latencies);
    }
  }));
  const seconds = (now() - started) / 1000;
  const cpuUsed = cpu.stop();
  const lockWaits = await lockSampler?.stop();

  // Correctness under load: verify the first and the last tenant's chain.
  const checked = [...new Set([tenants[0]!, tenants[tenants.length - 1]!])];
  const verified: string[] = [];
  for (const tenant of checked) {
    const result = await verifyChain({ db, tenantId: tenant });
    const expected = committed.get(tenant)!;
    const head = await db.prisma.chainHead.findFirst({ where: { tenantId: tenant } });
    if (!result.valid || result.checked !== expected || head?.sequence !== expected) {
      throw new Error(
        `chain of ${tenant} after "${scenario.name}" on ${backend.kind} is NOT valid: ` +
          JSON.stringify({ ...result, expectedEvents: expected, headSequence: head?.sequence }),
      );
    }
    verified.push(`${fmt(result.checked)}`);
  }
  return {
    scenario,
    events: latencies.length,
    seconds,
    latencies: latencies.sort((a, b) => a - b),
    errors,
    lockWaits,
    cpu: cpuUsed,
    verified: `${checked.length} chain(s) ok (${verified.join(' + ')} ev)`,
  };
}

async function benchBackend(kind: DatabaseKind): Promise<{ kind: DatabaseKind; header: string; results: ScenarioResult[] }> {
  return withBackend(
    kind,
    async (backend) => {
      const version = backend.databaseUrl ? await postgresVersion(backend.databaseUrl) : 'PGlite (in-process, single connection)';
      const header = `${kind}: ${version}${kind === 'postgresql' ? `, pool ${POOL_SIZE}` : ''}; ${backend.location}; ${backend.migrationNote}`;
      console.log(`\n## ${header}`);
      // Global warm-up: query plans, connections, JIT.
      await Promise.all(Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 15; i++) {
          await backend.db.prisma.$transaction((tx) => appendEvidence(tx, workloadAdmission(`bench-warmup-${w}`, i)));
        }
      }));
      const results: ScenarioResult[] = [];
      for (const [index, scenario] of SCENARIOS.entries()) {
        process.stdout.write(`  ${scenario.name} ... `);
        const result = await runScenario(backend, index, scenario);
        results.push(result);
        console.log(
          `${fmt(result.events / result.seconds)} events/s (${fmt(result.events)} in ${fmt(result.seconds, 1)} s, ` +
            `${result.errors.length} error(s)); ${result.verified}`,
        );
        for (const error of result.errors.slice(0, 5)) console.log(`    error: ${error}`);
      }
      return { kind, header, results };
    },
    { poolSize: POOL_SIZE },
  );
}

function report(all: Array<{ kind: DatabaseKind; header: string; results: ScenarioResult[] }>): string {
  const rows: string[][] = [];
  for (const { kind, results } of all) {
    const base = results[0]!.events / results[0]!.seconds;
    for (const r of results) {
      const rate = r.events / r.seconds;
      rows.push([
        kind,
        r.scenario.name,
        fmt(r.events),
        fmt(rate),
        `${fmt(rate / base, 2)}x`,
        fmt(percentile(r.latencies, 50), 1),
        fmt(percentile(r.latencies, 95), 1),
        fmt(percentile(r.latencies, 99), 1),
        fmt(r.latencies[r.latencies.length - 1] ?? NaN, 1),
        fmt(r.errors.length),
        `${fmt(r.cpu.processPercent)}%`,
        `${fmt(r.cpu.machinePercent)}%`,
        r.lockWaits ? `${fmt(r.lockWaits.mean, 1)} / ${fmt(r.lockWaits.max)}` : '-',
      ]);
    }
  }
  return table(
    ['backend', 'scenario', 'events', 'events/s', 'vs 1 tenant', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors', 'node CPU', 'machine CPU', 'lock waiters mean / max'],
    rows,
  );
}

runMain(async () => {
  const backends = backendsFromArgs();
  await checkBackends(backends);
  console.log(`# ledger-append: ${environment()}`);
  console.log(
    `events per scenario: ${backends.map((kind) => `${kind} ${fmt(EVENTS[kind])}`).join(', ')} (+ 2 warm-up events per writer)`,
  );
  const all = [];
  for (const kind of backends) all.push(await benchBackend(kind));
  console.log('\n### ledger-append results\n');
  console.log(report(all));
  console.log(
    '\nevents/s: committed appends per second (one transaction each); latency: one append transaction, ' +
      'including waiting for a connection / the PGlite mutex and the chain-head lock; lock waiters: PostgreSQL ' +
      'sessions of the benchmark database waiting on a lock (pg_stat_activity, sampled every 50 ms); node CPU: ' +
      'this process (100% = one core saturated; PGlite runs inside it); machine CPU: all cores, including ' +
      'PostgreSQL and anything else running on the machine.',
  );
  for (const { header } of all) console.log(`- ${header}`);
  const failed = all.flatMap(({ kind, results }) => results.flatMap((r) => r.errors.map((e) => `${kind} / ${r.scenario.name}: ${e}`)));
  if (failed.length) {
    console.error(`\n[bench] ${failed.length} append(s) FAILED, first ones:`);
    for (const line of failed.slice(0, 10)) console.error(`  ${line}`);
    process.exitCode = 1;
  }
});
