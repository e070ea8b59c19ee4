// Chain verification throughput over one long tenant chain, with the process's memory
// sampled every 100 ms during verification to show that it stays flat (verifyChain reads
// in batches). The chain is filled through `appendEvidence` (real hashes and artifacts),
// 500 appends per transaction, and the fill rate is reported too.
//
//   npx tsx bench/verify-chain.ts [--backend=pglite|postgresql] [--events=N] [--pglite-events=N]
//
// PostgreSQL: 100,000 events. PGlite: 100,000 events if the fill is projected to take at
// most 2 minutes after the first 5,000 events, otherwise 20,000 (printed); --pglite-events
// fixes the number.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendEvidence } from '../lib/evidence/ledger';
import { verifyChain } from '../subgraphs/audit/data/chain';
import type { DatabaseKind } from '../lib/db/database';
import { backendsFromArgs, checkBackends, environment, postgresVersion, withBackend } from './support/backends';
import type { Backend } from './support/backends';
import { fmt, mb, now, table } from './support/report';
import { collectGarbage, sampleRss } from './support/resources';
import { registerCleanup, runMain, unregisterCleanup, yieldToEventLoop } from './support/run-main';
import { workloadAdmission } from './support/workload-admission';
import { optionText, positiveIntegerOption } from './support/options';

const TENANT = 'bench-verify';
const BATCH = 500;
const FULL = 100_000;
const REDUCED = 20_000;
const PGLITE_FILL_BUDGET_S = 120;
const PROBE = 5_000;

/** `--name=N` (a positive multiple of BATCH), or undefined when it is not given. */
function numberArg(name: string): number | undefined {
  return optionText(name) === undefined ? undefined : positiveIntegerOption(name, BATCH, BATCH);
}

interface Fill {
  events: number;
  seconds: number;
  note: string;
}

interface Verification {
  label: string;
  events: number;
  seconds: number;
  rssBefore: number;
  peakRss: number;
  /** RSS samples taken (every 100 ms). */
  samples: number;
  /** heapUsed after a full GC, after minus before the verification. */
  heapRetained: number;
  /** RSS at 25, 50, 75 and 100 % of the verification time. */
  rssAt: number[];
}

async function fill(backend: Backend): Promise<Fill> {
  const { db, kind } = backend;
  const fixed = numberArg(kind === 'postgresql' ? 'events' : 'pglite-events');
  let target = fixed ?? FULL;
  let note = fixed ? 'set by option' : '';
  let appended = 0;
  const started = now();
  let lastReport = started;
  while (appended < target) {
    await db.prisma.$transaction(
      async (tx) => {
        for (let i = 0; i < BATCH; i++) {
          await appendEvidence(tx, workloadAdmission(TENANT, appended + i));
          await yieldToEventLoop();
        }
      },
      { timeout: 600_000, maxWait: 60_000 },
    );
    appended += BATCH;
    if (fixed === undefined && kind === 'pglite' && appended === PROBE) {
      const projected = (FULL / PROBE) * ((now() - started) / 1000);
      target = projected <= PGLITE_FILL_BUDGET_S ? FULL : REDUCED;
      note =
        target === FULL
          ? `full (fill projected at ${fmt(projected)} s)`
          : `REDUCED to ${fmt(REDUCED)}: filling ${fmt(FULL)} was projected at ${fmt(projected)} s > ${PGLITE_FILL_BUDGET_S} s`;
      console.log(`  ${kind}: ${note}`);
    }
    if (now() - lastReport > 15_000 || appended === target) {
      lastReport = now();
      const seconds = (now() - started) / 1000;
      console.log(`  ${kind}: filled ${fmt(appended)} / ${fmt(target)} events, ${fmt(appended / seconds)} events/s`);
    }
  }
  return { events: appended, seconds: (now() - started) / 1000, note };
}

async function measure(backend: Backend, label: string, toSequence: number | undefined, expected: number): Promise<Verification> {
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const sampler = await sampleRss(100);
  const started = now();
  const result = await verifyChain({ db: backend.db, tenantId: TENANT, toSequence });
  const seconds = (now() - started) / 1000;
  const memory = await sampler.stop();
  collectGarbage();
  const heapRetained = process.memoryUsage().heapUsed - heapBefore;
  if (!result.valid || result.checked !== expected) {
    throw new Error(`verifyChain on ${backend.kind} (${label}) is NOT valid: ${JSON.stringify({ ...result, expected })}`);
  }
  const total = memory.samples[memory.samples.length - 1]!.t;
  const rssAt = [0.25, 0.5, 0.75, 1].map((fraction) => memory.samples.find((sample) => sample.t >= fraction * total)!.rss);
  console.log(
    `  ${backend.kind}: verified ${label}: ${fmt(result.checked)} events in ${fmt(seconds, 1)} s, ` +
      `${fmt(result.checked / seconds)} events/s, RSS ${mb(memory.first)} -> peak ${mb(memory.peak)} (${memory.samples.length} samples)`,
  );
  return {
    label,
    events: result.checked,
    seconds,
    rssBefore: memory.first,
    peakRss: memory.peak,
    samples: memory.samples.length,
    heapRetained,
    rssAt,
  };
}

async function plannerStatistics(backend: Backend): Promise<string> {
  const rows = await backend.db.prisma.$queryRawUnsafe<Array<{ autovacuum: string; analyzed: boolean | null }>>(
    `SELECT current_setting('autovacuum') AS autovacuum,
            (SELECT last_autoanalyze IS NOT NULL OR last_analyze IS NOT NULL
               FROM pg_stat_user_tables WHERE relname = 'audit_evidence_events') AS analyzed`,
  );
  const row = rows[0];
  return `autovacuum ${row?.autovacuum ?? '?'}, evidence table ${row?.analyzed ? 'analysed' : 'never analysed'} after the fill`;
}

async function benchBackend(kind: DatabaseKind) {
  return withBackend(kind, async (backend) => {
    const version = backend.databaseUrl ? await postgresVersion(backend.databaseUrl) : 'PGlite (in-process)';
    const header = `${kind}: ${version}; ${backend.location}; ${backend.migrationNote}`;
    console.log(`\n## ${header}`);
    const filled = await fill(backend);
    // Warm-up (untimed): query plans, first pages in cache.
    await verifyChain({ db: backend.db, tenantId: TENANT, toSequence: Math.min(4_000, filled.events) });
    const tenth = filled.events / 10;
    // Planner statistics as the fill left them: with autovacuum off (as on the local test
    // server) or not yet run, the tables have never been analysed.
    const stats = await plannerStatistics(backend);
    console.log(`  ${kind}: before verification: ${stats}`);
    const verifications = [
      await measure(backend, `first 10% (1..${fmt(tenth)})`, tenth, tenth),
      await measure(backend, `whole chain (1..${fmt(filled.events)})`, undefined, filled.events),
    ];
    await backend.db.prisma.$executeRawUnsafe('ANALYZE audit_evidence_events, audit_evidence_artifacts');
    verifications.push(await measure(backend, `whole chain, after ANALYZE`, undefined, filled.events));
    return { kind, header: `${header}; ${stats}`, filled, verifications };
  });
}

type BackendResult = Awaited<ReturnType<typeof benchBackend>>;

function report(all: BackendResult[]): void {
  console.log('\n### verify-chain: fill (appendEvidence, 500 appends per transaction, one tenant)\n');
  console.log(
    table(
      ['backend', 'chain events', 'fill time s', 'fill events/s', 'note'],
      all.map(({ kind, filled }) => [kind, fmt(filled.events), fmt(filled.seconds, 1), fmt(filled.events / filled.seconds), filled.note]),
    ),
  );
  console.log('\n### verify-chain: verification (verifyChain, memory sampled every 100 ms)\n');
  console.log(
    table(
      [
        'backend',
        'range',
        'events',
        'time s',
        'events/s',
        'RSS samples',
        'RSS before',
        'peak RSS',
        'peak - before',
        'RSS at 25/50/75/100% of run',
        'heap retained',
      ],
      all.flatMap(({ kind, verifications }) =>
        verifications.map((v) => [
          kind,
          v.label,
          fmt(v.events),
          fmt(v.seconds, 1),
          fmt(v.events / v.seconds),
          fmt(v.samples),
          mb(v.rssBefore),
          mb(v.peakRss),
          mb(v.peakRss - v.rssBefore),
          `${v.rssAt.map((rss) => fmt(rss / 1024 / 1024)).join(' / ')} MB`,
          mb(v.heapRetained),
        ]),
      ),
    ),
  );
  console.log(
    '\nRSS is the whole benchmark process, one process per backend (on PGlite it includes the embedded database ' +
      'and its buffer cache; PostgreSQL runs in its own processes), sampled every 100 ms from a worker thread; ' +
      'a full GC runs before each measurement. Heap retained: heapUsed after a full GC, after minus before.',
  );
  for (const { header } of all) console.log(`- ${header}`);
}

/** Runs this file for one backend in a child process (clean RSS), returning its results. */
async function runChild(kind: DatabaseKind): Promise<BackendResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ecs-bench-result-'));
  const resultFile = path.join(dir, 'result.json');
  const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--backend=') && !arg.startsWith('--result-file='));
  const child = spawn(process.execPath, [...process.execArgv, __filename, `--backend=${kind}`, `--result-file=${resultFile}`, ...args], {
    stdio: 'inherit',
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ? 1 : code)));
  const stopChild = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  registerCleanup(stopChild);
  try {
    const code = await exited;
    if (code !== 0) throw new Error(`verify-chain on ${kind} exited with code ${code}`);
    return JSON.parse(await readFile(resultFile, 'utf8')) as BackendResult;
  } finally {
    unregisterCleanup(stopChild);
    await rm(dir, { recursive: true, force: true });
  }
}

runMain(async () => {
  const backends = backendsFromArgs();
  await checkBackends(backends);
  const resultFile = process.argv
    .slice(2)
    .find((arg) => arg.startsWith('--result-file='))
    ?.slice('--result-file='.length);
  if (!resultFile) console.log(`# verify-chain: ${environment()}`);
  if (backends.length > 1) {
    const all: BackendResult[] = [];
    for (const kind of backends) all.push(await runChild(kind));
    report(all);
    return;
  }
  const result = await benchBackend(backends[0]!);
  if (resultFile) await writeFile(resultFile, JSON.stringify(result));
  else report([result]);
});
