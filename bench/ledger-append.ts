// Evidence append throughput and latency, against the server-side floor of a chained append.
//
//   npm run bench -- ledger-append [--backend=pglite|postgresql] [--seconds=5] [--rounds=3] [--baseline-dir=<dir>]
//
// Scenarios: 1 tenant with 1 writer, 64 tenants with 1 writer each, and (PostgreSQL) 64
// writers on ONE tenant. Each writer appends a `workload.admit` event, one after the other,
// for a fixed time, in each of the two ways the planes append:
//   - own statement: `recordEvidence` (refusals, object reads; appends that pile up on a chain
//     share a statement),
//   - in a transaction: `evidenceTransaction` + `appendEvidence` (governed changes).
// On PostgreSQL the same scenarios run as the raw baseline too: pgbench driving the chained-
// append function of bench-baselines/pgbench (one server-side function per event, no Node, no
// Prisma) with the canonical text of a real event, on the same server. Round r runs every
// scenario (ledger modes, then raw) before round r + 1; each figure is the median of the rounds,
// so a burst of background load does not land on one figure only. After every round the chains
// of the first and the last tenant are verified (`verifyChain`) and must hold exactly the
// committed events.
// Then: a cold tenant's latency alone and while 64 writers hammer a hot tenant (target: p95
// at most 2x), a burst of 1,024 transactions on one chain (served or refused with a 503, never
// failed) and, on PGlite, the event loop during a burst of 2,000 appends and under a plain
// sequential writer. Exit code 1 on any failed append or chain that does not verify.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { DatabaseKind } from '../lib/db/database';
import { buildEvent } from '../lib/evidence/ledger';
import { APPEND_MODES, appendOnce, appender, newTally, verifyCommitted, writeUntil } from './support/append-load';
import type { AppendMode, Tally } from './support/append-load';
import { backendsFromArgs, checkBackends, environment, postgresVersion, withBackend } from './support/backends';
import type { Backend } from './support/backends';
import { burstCheck, coldTenantCheck, eventLoopCheck } from './support/ledger-checks';
import type { BurstResult, ColdTenantResult, EventLoopResult } from './support/ledger-checks';
import { checkRawBaseline, openRawBaseline } from './support/pgbench-baseline';
import type { RawBaseline } from './support/pgbench-baseline';
import { fmt, now, percentile, table } from './support/report';
import { measureCpu, measureWal, sampleLockWaits } from './support/resources';
import { runMain } from './support/run-main';
import { workloadAdmission } from './support/workload-admission';
import { optionText, positiveIntegerOption } from './support/options';

interface Scenario {
  name: string;
  tenants: number;
  writersPerTenant: number;
  onPglite: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: '1 tenant, 1 writer', tenants: 1, writersPerTenant: 1, onPglite: true },
  { name: '64 tenants, 1 writer each', tenants: 64, writersPerTenant: 1, onPglite: true },
  { name: '1 tenant, 64 writers', tenants: 1, writersPerTenant: 64, onPglite: false },
];

const SECONDS = positiveIntegerOption('seconds', 5);
const ROUNDS = positiveIntegerOption('rounds', 3);
const BASELINE_DIR = path.resolve(optionText('baseline-dir') ?? path.resolve(__dirname, '../../shared/bench-baselines/pgbench'));
/** Pool size of the PostgreSQL client: the application default. */
const POOL_SIZE = 10;
const RAW = 'raw (pgbench)';

interface Round {
  events: number;
  rate: number;
  cpu?: { processPercent: number; machinePercent: number };
  lockWaits?: { max: number; mean: number };
  /** Write-ahead log the server wrote during the round (PostgreSQL). */
  walBytes?: number;
}

interface Run {
  scenario: Scenario;
  mode: AppendMode | typeof RAW;
  tenants: string[];
  tally: Tally;
  verified: Map<string, number>;
  rounds: Round[];
}

function newRun(scenario: Scenario, index: number, mode: Run['mode']): Run {
  const prefix = `bench-s${index}-${mode === 'own statement' ? 'own' : 'tx'}`;
  const tenants = Array.from({ length: scenario.tenants }, (_, t) => `${prefix}-t${String(t).padStart(2, '0')}`);
  return { scenario, mode, tenants, tally: newTally(), verified: new Map(), rounds: [] };
}

/** Every writer appends for SECONDS; then the first and the last tenant's chains are verified. */
async function ledgerRound(backend: Backend, run: Run, mode: AppendMode): Promise<{ round: Round; checked: number }> {
  const append = appender(backend.db, mode);
  const writers = run.tenants.flatMap((tenant) => Array.from({ length: run.scenario.writersPerTenant }, () => tenant));
  // Before the first round every writer appends 2 events (creates the chain heads).
  if (run.rounds.length === 0) {
    await Promise.all(
      writers.map(async (tenant) => {
        for (let i = 0; i < 2; i++) await appendOnce(append, tenant, run.tally, false);
      }),
    );
  }
  const timedBefore = run.tally.latencies.length;
  const lockSampler = backend.databaseUrl ? await sampleLockWaits(backend.databaseUrl) : undefined;
  const wal = backend.databaseUrl ? await measureWal(backend.databaseUrl) : undefined;
  const cpu = measureCpu();
  const started = now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(writers.map((tenant) => writeUntil(deadline, append, tenant, run.tally)));
  const seconds = (now() - started) / 1000;
  const events = run.tally.latencies.length - timedBefore;
  const round: Round = {
    events,
    rate: events / seconds,
    cpu: cpu.stop(),
    walBytes: await wal?.stop(),
    lockWaits: await lockSampler?.stop(),
  };
  run.rounds.push(round);
  const { checked, failures } = await verifyCommitted(
    backend.db,
    [run.tenants[0]!, run.tenants[run.tenants.length - 1]!],
    run.tally,
    run.verified,
  );
  run.tally.errors.push(...failures);
  return { round, checked };
}

async function rawRound(raw: RawBaseline, run: Run): Promise<Round> {
  const lockSampler = await sampleLockWaits(raw.url);
  const wal = await measureWal(raw.url);
  const cpu = measureCpu();
  try {
    const result = await raw.run({
      clients: run.scenario.tenants * run.scenario.writersPerTenant,
      tenants: run.scenario.tenants,
      seconds: SECONDS,
    });
    if (result.failed) run.tally.errors.push(`pgbench: ${result.failed} failed transaction(s)`);
    const cpuUse = cpu.stop();
    const round: Round = {
      events: result.transactions,
      rate: result.tps,
      cpu: cpuUse,
      walBytes: await wal.stop(),
      lockWaits: await lockSampler.stop(),
    };
    run.rounds.push(round);
    return round;
  } catch (error) {
    await Promise.all([lockSampler.stop(), wal.stop()]);
    run.tally.errors.push(String(error));
    return { events: 0, rate: NaN };
  }
}

/** The canonical text of an event as the ledger stores it (the raw baseline's payload). */
function realEvent(): { canonical: string; recordBytes: number } {
  const input = workloadAdmission('bench-s0-own-t00', 1);
  const built = buildEvent(input, { id: randomUUID(), sequence: 1000, prevHash: `sha256:${'0'.repeat(64)}`, occurredAt: new Date() });
  return { canonical: built.canonical, recordBytes: Buffer.byteLength(built.record.text) };
}

interface BackendResult {
  kind: DatabaseKind;
  header: string;
  runs: Run[];
  cold: ColdTenantResult;
  burst: BurstResult;
  eventLoop?: EventLoopResult[];
  warmUpErrors: string[];
}

async function benchBackend(kind: DatabaseKind): Promise<BackendResult> {
  return withBackend(
    kind,
    async (backend) => {
      const version = backend.databaseUrl ? await postgresVersion(backend.databaseUrl) : 'PGlite (in-process, single connection)';
      const header = `${kind}: ${version}${kind === 'postgresql' ? `, pool ${POOL_SIZE}` : ''}; ${backend.location}; ${backend.migrationNote}`;
      console.log(`\n## ${header}`);
      const event = realEvent();
      const raw = backend.databaseUrl
        ? await openRawBaseline({ serverUrl: backend.databaseUrl, dir: BASELINE_DIR, payload: event.canonical })
        : undefined;
      try {
        if (raw) {
          console.log(
            `raw baseline: database ${new URL(raw.url).pathname.slice(1)}, payload ${raw.payloadBytes} bytes ` +
              `(the ledger also stores a ${event.recordBytes}-byte decision record per event)`,
          );
        }
        // Global warm-up: query plans, connections, JIT.
        const warmUp = newTally();
        for (const mode of APPEND_MODES) {
          const append = appender(backend.db, mode);
          await Promise.all(
            Array.from({ length: 8 }, async (_, w) => {
              for (let i = 0; i < 15; i++) await appendOnce(append, `bench-warmup-${w}`, warmUp, false);
            }),
          );
        }
        const runs: Run[] = [];
        for (const [index, scenario] of SCENARIOS.entries()) {
          if (kind === 'pglite' && !scenario.onPglite) continue;
          for (const mode of APPEND_MODES) runs.push(newRun(scenario, index, mode));
          if (raw) runs.push(newRun(scenario, index, RAW));
        }
        for (let r = 0; r < ROUNDS; r++) {
          for (const run of runs) {
            const label = `  round ${r + 1}/${ROUNDS} ${run.scenario.name}, ${run.mode}`;
            if (run.mode === RAW) {
              const round = await rawRound(raw!, run);
              console.log(`${label}: ${fmt(round.rate)} events/s (${fmt(round.events)}), ${run.tally.errors.length} error(s) so far`);
              continue;
            }
            const { round, checked } = await ledgerRound(backend, run, run.mode);
            console.log(
              `${label}: ${fmt(round.rate)} events/s (${fmt(round.events)}), ${run.tally.errors.length} error(s) so far; ` +
                `verified ${fmt(checked)} new event(s) in ${new Set([run.tenants[0], run.tenants[run.tenants.length - 1]]).size} chain(s)`,
            );
          }
        }
        console.log('  cold tenant, alone and while 64 writers append to a hot tenant ...');
        const cold = await coldTenantCheck(backend.db, SECONDS);
        console.log('  burst of 1,024 transactions on one tenant ...');
        const burst = await burstCheck(backend.db);
        let eventLoop: EventLoopResult[] | undefined;
        if (kind === 'pglite') {
          console.log('  event loop during a burst of 2,000 and a sequential writer ...');
          eventLoop = await eventLoopCheck(backend.db, SECONDS);
        }
        return { kind, header, runs, cold, burst, eventLoop, warmUpErrors: warmUp.errors };
      } finally {
        await raw?.close();
      }
    },
    { poolSize: POOL_SIZE },
  );
}

const median = (values: number[]): number => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const ms = (value: number) => fmt(value, 1);

function throughputTable(all: BackendResult[]): string {
  const rows: string[][] = [];
  for (const { kind, runs } of all) {
    for (const run of runs) {
      const rate = median(run.rounds.map((round) => round.rate));
      const rawRun = runs.find((other) => other.scenario === run.scenario && other.mode === RAW);
      const rawRate = rawRun ? median(rawRun.rounds.map((round) => round.rate)) : NaN;
      const rates = run.rounds.map((round) => round.rate);
      const latencies = [...run.tally.latencies].sort((a, b) => a - b);
      const cpu = run.rounds.flatMap((round) => (round.cpu ? [round.cpu] : []));
      const waits = run.rounds.flatMap((round) => (round.lockWaits ? [round.lockWaits] : []));
      const walRounds = run.rounds.filter((round) => round.walBytes !== undefined && round.events > 0);
      const walPerEvent =
        walRounds.reduce((sum, round) => sum + round.walBytes!, 0) / walRounds.reduce((sum, round) => sum + round.events, 0);
      const isRaw = run.mode === RAW;
      rows.push([
        kind,
        run.scenario.name,
        run.mode,
        fmt(run.rounds.reduce((sum, round) => sum + round.events, 0)),
        fmt(rate),
        rates.length ? `${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}` : '-',
        rawRun ? `${fmt(rate / rawRate, 2)}x` : '-',
        isRaw ? '-' : ms(percentile(latencies, 50)),
        isRaw ? '-' : ms(percentile(latencies, 95)),
        isRaw ? '-' : ms(percentile(latencies, 99)),
        fmt(run.tally.errors.length),
        isRaw || !cpu.length ? '-' : `${fmt(mean(cpu.map((c) => c.processPercent)))}%`,
        cpu.length ? `${fmt(mean(cpu.map((c) => c.machinePercent)))}%` : '-',
        waits.length ? `${fmt(mean(waits.map((w) => w.mean)), 1)} / ${fmt(Math.max(...waits.map((w) => w.max)))}` : '-',
        walRounds.length ? fmt(walPerEvent) : '-',
      ]);
    }
  }
  return table(
    [
      'backend',
      'scenario',
      'mode',
      'events',
      'events/s (median)',
      'rounds min-max',
      'vs raw',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'errors',
      'node CPU',
      'machine CPU',
      'lock waiters mean / max',
      'WAL bytes/event',
    ],
    rows,
  );
}

function coldTable(all: BackendResult[]): string {
  const rows = all.map(({ kind, cold }) => {
    const ratio = cold.underLoad.p95 / cold.alone.p95;
    return [
      kind,
      fmt(cold.alone.events),
      ms(cold.alone.p50),
      ms(cold.alone.p95),
      fmt(cold.underLoad.events),
      ms(cold.underLoad.p50),
      ms(cold.underLoad.p95),
      `${fmt(ratio, 2)}x`,
      ratio <= 2 ? 'met' : 'MISSED',
      fmt(cold.hotEventsPerSecond),
      fmt(cold.errors.length),
    ];
  });
  return table(
    [
      'backend',
      'cold alone: events',
      'p50 ms',
      'p95 ms',
      'under load: events',
      'p50 ms',
      'p95 ms',
      'p95 ratio',
      'target <= 2x',
      'hot events/s',
      'errors',
    ],
    rows,
  );
}

function burstTable(all: BackendResult[]): string {
  const rows = all.map(({ kind, burst }) => [
    kind,
    fmt(burst.fired),
    fmt(burst.succeeded),
    fmt(burst.refused),
    fmt(burst.errors.length),
    fmt(burst.seconds, 2),
    fmt(burst.succeeded / burst.seconds),
    ms(burst.maxGapMs),
  ]);
  return table(
    ['backend', 'fired at once', 'succeeded', 'refused (503)', 'failed otherwise', 'duration s', 'events/s', 'event loop: largest gap ms'],
    rows,
  );
}

function eventLoopTable(all: BackendResult[]): string {
  const rows = all.flatMap(({ kind, eventLoop }) =>
    (eventLoop ?? []).map((check) => [
      kind,
      check.name,
      fmt(check.events),
      fmt(check.seconds, 2),
      fmt(check.events / check.seconds),
      `${fmt(check.ticks)} of ${fmt(check.expectedTicks)}`,
      ms(check.maxGapMs),
      fmt(check.errors.length),
    ]),
  );
  return table(['backend', 'event loop check', 'events', 'duration s', 'events/s', 'ticks (100 ms)', 'largest gap ms', 'errors'], rows);
}

runMain(async () => {
  const backends = backendsFromArgs();
  await checkBackends(backends);
  if (backends.includes('postgresql')) await checkRawBaseline(BASELINE_DIR);
  console.log(`# ledger-append: ${environment()}`);
  console.log(`${SECONDS} s per scenario and mode in each of ${ROUNDS} interleaved rounds (+ 2 warm-up events per writer)`);
  const all: BackendResult[] = [];
  for (const kind of backends) all.push(await benchBackend(kind));

  console.log('\n### ledger-append results\n');
  console.log(throughputTable(all));
  console.log(
    `\nevents/s: committed appends per second, median of ${ROUNDS} rounds of ${SECONDS} s; own statement: recordEvidence ` +
      '(one autocommit statement, grouped with the appends that wait on the same chain); in a transaction: ' +
      'evidenceTransaction + appendEvidence (one transaction per event, behind the chain queue); raw (pgbench): ' +
      `${path.join(BASELINE_DIR, 'chain1.sql')}'s append_event() with the canonical text of a workload.admit event as ` +
      'payload, writer c on tenant c mod tenants, -j min(writers, 4), in a scratch database of the same server, ' +
      'interleaved with the ledger runs (pgbench tps); vs raw: ledger median / raw median of the same scenario. ' +
      'Latency: one append, including the wait for a turn of the event loop, the chain queue, a pooled connection / ' +
      'the PGlite mutex and the chain-head lock. node CPU: this process (100% = one core; PGlite runs inside it); ' +
      'machine CPU: both cores, PostgreSQL and pgbench included; lock waiters: sessions of the database waiting ' +
      'on a lock (pg_stat_activity every 50 ms); WAL bytes/event: write-ahead log the server wrote during the ' +
      "rounds (pg_current_wal_lsn, the Merkle state's nodes included) per committed event.",
  );
  for (const { header } of all) console.log(`- ${header}`);

  console.log('\n### a hot chain never starves other tenants\n');
  console.log(coldTable(all));
  console.log(
    `\nOne sequential writer on a cold tenant for ${SECONDS} s alone, then for ${SECONDS} s while 64 sequential writers ` +
      'append to one hot tenant; every append in a transaction. p95 ratio: cold p95 under load / cold p95 alone.',
  );
  console.log(`\n${burstTable(all)}`);
  console.log(
    '\n1,024 evidenceTransaction appends on one tenant, all started at once. Refused: ECS_DEPENDENCY_UNAVAILABLE ' +
      '(the chain queue is full, a 503); any other failure counts as an error. Largest gap: the longest time without a tick of a 100 ms setInterval during the burst.',
  );
  if (all.some((result) => result.eventLoop)) {
    console.log(`\n${eventLoopTable(all)}`);
    console.log(
      '\nA setInterval of 100 ms runs during each check; ticks: how many fired (of the expected number); largest gap: ' +
        'the longest time without a tick (start and end included). Burst: 2,000 recordEvidence appends started at once, ' +
        'spread over 64 tenants. Sequential: one writer awaiting recordEvidence in a loop, with no turn of the event ' +
        'loop of its own (the plain single-writer rate).',
    );
  }

  const failed = all.flatMap(({ kind, runs, cold, burst, eventLoop, warmUpErrors }) => [
    ...warmUpErrors.map((e) => `${kind} / warm-up: ${e}`),
    ...runs.flatMap((run) => run.tally.errors.map((e) => `${kind} / ${run.scenario.name} / ${run.mode}: ${e}`)),
    ...cold.errors.map((e) => `${kind} / cold tenant: ${e}`),
    ...burst.errors.map((e) => `${kind} / burst: ${e}`),
    ...(eventLoop ?? []).flatMap((check) => check.errors.map((e) => `${kind} / ${check.name}: ${e}`)),
  ]);
  if (failed.length) {
    console.error(`\n[bench] ${failed.length} FAILURE(S), first ones:`);
    for (const line of failed.slice(0, 10)) console.error(`  ${line}`);
    process.exitCode = 1;
  }
});
