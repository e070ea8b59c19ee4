// Evidence append throughput: N tenants (one chain each) with one sequential writer per
// tenant, each event in its own interactive transaction, exactly as the planes append
// (`db.prisma.$transaction(tx => appendEvidence(tx, ...))`) a `workload.admit` event;
// plus 64 writers on ONE tenant, where the chain-head row lock serialises every append.
//
//   npx tsx bench/ledger-append.ts [--backend=pglite|postgresql] [--events=N] [--pglite-events=N] [--rounds=N]
//
// Each scenario's events are split over rounds that interleave the scenarios (round 1 of
// every scenario, then round 2, ...), and the reported rate is the median of the rounds, so
// a burst of background load on a shared machine does not land on one scenario only.
// After every round the chains of the first and the last tenant are verified
// (`verifyChain`); the run fails if a chain is invalid or does not hold exactly the events
// that were committed, or if any append failed.
import { appendEvidence } from '../lib/evidence/ledger';
import { verifyChain } from '../subgraphs/audit/data/chain';
import type { DatabaseKind } from '../lib/db/database';
import { backendsFromArgs, checkBackends, environment, postgresVersion, withBackend } from './support/backends';
import type { Backend } from './support/backends';
import { fmt, now, percentile, table } from './support/report';
import { measureCpu, sampleLockWaits } from './support/resources';
import { runMain, yieldToEventLoop } from './support/run-main';
import { workloadAdmission } from './support/workload-admission';

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

/** Timed events per scenario, all rounds together (warm-up events come on top). */
const EVENTS: Record<DatabaseKind, number> = {
  postgresql: numberArg('events', 2000),
  pglite: numberArg('pglite-events', 2000),
};
const ROUNDS = numberArg('rounds', 3);
/** Pool size of the PostgreSQL client: the application default. */
const POOL_SIZE = 10;
/** Stop a round after this many failed appends. */
const MAX_ERRORS = 100;

interface Round {
  events: number;
  seconds: number;
  cpu: { processPercent: number; machinePercent: number };
  lockWaits?: { max: number; mean: number };
}

interface ScenarioRun {
  scenario: Scenario;
  tenants: string[];
  /** Events committed per tenant (warm-up included): what each chain must hold. */
  committed: Map<string, number>;
  latencies: number[];
  errors: string[];
  rounds: Round[];
  verifiedEvents: number;
}

function newRun(index: number, scenario: Scenario): ScenarioRun {
  const tenants = Array.from({ length: scenario.tenants }, (_, t) => `bench-s${index}-t${String(t).padStart(2, '0')}`);
  return {
    scenario,
    tenants,
    committed: new Map(tenants.map((tenant) => [tenant, 0])),
    latencies: [],
    errors: [],
    rounds: [],
    verifiedEvents: 0,
  };
}

async function runRound(backend: Backend, run: ScenarioRun, events: number): Promise<Round> {
  const { db } = backend;
  let n = 0;
  const appendOne = async (tenant: string, latencies?: number[]) => {
    const started = now();
    try {
      // Let timers, I/O and the other writers in first (on PGlite a transaction otherwise
      // runs to its end in microtasks); the wait for this turn counts in the latency.
      await yieldToEventLoop();
      await db.prisma.$transaction((tx) => appendEvidence(tx, workloadAdmission(tenant, n++)));
      run.committed.set(tenant, run.committed.get(tenant)! + 1);
      latencies?.push(now() - started);
    } catch (error) {
      const message = String((error as Error).message ?? error)
        .replace(/\s+/g, ' ')
        .slice(0, 300);
      run.errors.push(`${latencies ? '' : '(warm-up) '}${tenant}: ${message}`);
    }
  };
  const writers = run.tenants.flatMap((tenant) => Array.from({ length: run.scenario.writersPerTenant }, () => tenant));

  // Warm-up before the first round: every writer appends 2 events (creates the chain heads).
  if (run.rounds.length === 0) {
    await Promise.all(
      writers.map(async (tenant) => {
        for (let i = 0; i < 2; i++) await appendOne(tenant);
      }),
    );
  }

  // Timed: a fixed number of events shared by all writers; each writer appends sequentially.
  let remaining = events;
  const errorsBefore = run.errors.length;
  const latenciesBefore = run.latencies.length;
  const lockSampler = backend.databaseUrl ? await sampleLockWaits(backend.databaseUrl) : undefined;
  const cpu = measureCpu();
  const started = now();
  await Promise.all(
    writers.map(async (tenant) => {
      while (remaining > 0 && run.errors.length - errorsBefore < MAX_ERRORS) {
        remaining -= 1;
        await appendOne(tenant, run.latencies);
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  const round: Round = {
    events: run.latencies.length - latenciesBefore,
    seconds,
    cpu: cpu.stop(),
    lockWaits: await lockSampler?.stop(),
  };
  run.rounds.push(round);

  // Correctness under load: the first and the last tenant's chain, from sequence 1.
  let verified = 0;
  for (const tenant of [...new Set([run.tenants[0]!, run.tenants[run.tenants.length - 1]!])]) {
    const result = await verifyChain({ db, tenantId: tenant });
    const expected = run.committed.get(tenant)!;
    const head = await db.prisma.chainHead.findFirst({ where: { tenantId: tenant } });
    if (!result.valid || result.checked !== expected || head?.sequence !== expected) {
      throw new Error(
        `chain of ${tenant} after "${run.scenario.name}" on ${backend.kind} is NOT valid: ` +
          JSON.stringify({ ...result, expectedEvents: expected, headSequence: head?.sequence }),
      );
    }
    verified += result.checked;
  }
  run.verifiedEvents = verified;
  return round;
}

async function benchBackend(kind: DatabaseKind): Promise<{ kind: DatabaseKind; header: string; runs: ScenarioRun[] }> {
  return withBackend(
    kind,
    async (backend) => {
      const version = backend.databaseUrl ? await postgresVersion(backend.databaseUrl) : 'PGlite (in-process, single connection)';
      const header = `${kind}: ${version}${kind === 'postgresql' ? `, pool ${POOL_SIZE}` : ''}; ${backend.location}; ${backend.migrationNote}`;
      console.log(`\n## ${header}`);
      // Global warm-up: query plans, connections, JIT.
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 15; i++) {
            await backend.db.prisma.$transaction((tx) => appendEvidence(tx, workloadAdmission(`bench-warmup-${w}`, i)));
          }
        }),
      );
      const runs = SCENARIOS.map((scenario, index) => newRun(index, scenario));
      for (let r = 0; r < ROUNDS; r++) {
        // Spread the remainder over the first rounds.
        const events = Math.floor(EVENTS[kind] / ROUNDS) + (r < EVENTS[kind] % ROUNDS ? 1 : 0);
        for (const run of runs) {
          const round = await runRound(backend, run, events);
          console.log(
            `  round ${r + 1}/${ROUNDS} ${run.scenario.name}: ${fmt(round.events / round.seconds)} events/s ` +
              `(${fmt(round.events)} in ${fmt(round.seconds, 1)} s), ${run.errors.length} error(s) so far; ` +
              `verified ${fmt(run.verifiedEvents)} events in ${run.tenants.length > 1 ? 2 : 1} chain(s)`,
          );
        }
      }
      return { kind, header, runs };
    },
    { poolSize: POOL_SIZE },
  );
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

function report(all: Array<{ kind: DatabaseKind; runs: ScenarioRun[] }>): string {
  const rows: string[][] = [];
  for (const { kind, runs } of all) {
    const rateOf = (run: ScenarioRun) => median(run.rounds.map((round) => round.events / round.seconds));
    const base = rateOf(runs[0]!);
    for (const run of runs) {
      const rates = run.rounds.map((round) => round.events / round.seconds);
      const latencies = [...run.latencies].sort((a, b) => a - b);
      const waits = run.rounds.map((round) => round.lockWaits).filter((w): w is { max: number; mean: number } => !!w);
      rows.push([
        kind,
        run.scenario.name,
        fmt(latencies.length),
        fmt(rateOf(run)),
        `${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}`,
        `${fmt(rateOf(run) / base, 2)}x`,
        fmt(percentile(latencies, 50), 1),
        fmt(percentile(latencies, 95), 1),
        fmt(percentile(latencies, 99), 1),
        fmt(latencies[latencies.length - 1] ?? NaN, 1),
        fmt(run.errors.length),
        `${fmt(mean(run.rounds.map((round) => round.cpu.processPercent)))}%`,
        `${fmt(mean(run.rounds.map((round) => round.cpu.machinePercent)))}%`,
        waits.length ? `${fmt(mean(waits.map((w) => w.mean)), 1)} / ${fmt(Math.max(...waits.map((w) => w.max)))}` : '-',
      ]);
    }
  }
  return table(
    [
      'backend',
      'scenario',
      'events',
      'events/s (median)',
      'rounds min-max',
      'vs 1 tenant',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'errors',
      'node CPU',
      'machine CPU',
      'lock waiters mean / max',
    ],
    rows,
  );
}

runMain(async () => {
  const backends = backendsFromArgs();
  await checkBackends(backends);
  console.log(`# ledger-append: ${environment()}`);
  console.log(
    `timed events per scenario: ${backends.map((kind) => `${kind} ${fmt(EVENTS[kind])}`).join(', ')} in ${ROUNDS} ` +
      'interleaved rounds (+ 2 warm-up events per writer)',
  );
  const all = [];
  for (const kind of backends) all.push(await benchBackend(kind));
  console.log('\n### ledger-append results\n');
  console.log(report(all));
  console.log(
    `\nevents/s: committed appends per second (one transaction each), median of ${ROUNDS} rounds; latency: one ` +
      'append, including the wait for a turn of the event loop, a pooled connection / the PGlite mutex and the ' +
      'chain-head lock; node CPU: this process (100% = one core; PGlite runs inside it); machine CPU: both cores, ' +
      'PostgreSQL and everything else on the machine included; lock waiters: sessions of the benchmark database ' +
      'waiting on a lock (pg_stat_activity every 50 ms).',
  );
  for (const { header } of all) console.log(`- ${header}`);
  const failed = all.flatMap(({ kind, runs }) => runs.flatMap((run) => run.errors.map((e) => `${kind} / ${run.scenario.name}: ${e}`)));
  if (failed.length) {
    console.error(`\n[bench] ${failed.length} append(s) FAILED, first ones:`);
    for (const line of failed.slice(0, 10)) console.error(`  ${line}`);
    process.exitCode = 1;
  }
});
