// Evidence export of one long tenant chain: the export worker's plan pass (one read of the
// events: chain check, artifacts, hashes, Merkle root, signed manifest), the download's
// stream pass (the .tar.gz streamed again from the events, as GET /v1/exports/{id}/bundle
// serves it) and `ecs verify` as a real child process, of the archive and of its unpacked
// directory (the verifier streams both in one pass: lib/bundle/verify-bundle.ts). Reports
// events/s and peak memory of each, the exporter's and the verifier's side by side.
//
// On PostgreSQL the two export passes run in a fresh process whose V8 heap is capped at
// 256 MB (so its RSS is the exporter's alone, and finishing at all shows that memory does
// not grow with the chain); its RSS is sampled every 100 ms from a worker thread. The
// verifier's peak is that of its whole process tree: bin/ecs.js runs the command in one
// process, whose kernel high-water mark (VmHWM) it is; `ecs help` is measured the same way,
// to show how much of that peak is the command's start alone (tsx and the modules
// cli/ecs.ts loads), whatever the bundle.
//
//   npx tsx bench/export-bundle.ts [--backend=postgresql|pglite] [--events=N] [--pglite-events=N] [--fill=sql]
//   npx tsx bench/export-bundle.ts --synthetic [--events=N] [--events-per-record=K] [--archive-only]
//
// `--synthetic` measures the verifier alone, on a signed bundle written straight to disk by
// testkit/long-bundle.ts (no database, no exporter: minutes instead of the hours a
// ten-million-event fill takes), one decision record per K events (default 1). With
// `--archive-only` the bundle is written straight into its .tar.gz and verified from it alone
// (ten million artifact files unpacked need about 45 GB of disk).
//
// Defaults: PostgreSQL only, 1,000,000 events (PGlite: 100,000 when asked for). The chain is
// filled with multi-row INSERTs of events built exactly as the ledger builds them
// (bench/bulk-chain.ts, about 4,000 events/s here); `--fill=sql` (PostgreSQL) has the server
// build them from the ledger's templates instead (bench/server-fill.ts), for ten million events.
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { planBundle } from '../lib/bundle/plan-bundle';
import type { BundlePlan } from '../lib/bundle/plan-bundle';
import { bundleTarGzStream } from '../lib/bundle/stream-bundle';
import { openDatabase } from '../lib/db/database';
import type { Database, DatabaseKind } from '../lib/db/database';
import { chainIdFor } from '../lib/evidence/evidence-event';
import { loadSigningKeys } from '../lib/keys/signing-keys';
import { chainSource, repeatedPointers } from '../subgraphs/audit/exports/chain-source';
import { bulkFill } from './bulk-chain';
import { serverFill } from './server-fill';
import { backendsFromArgs, checkBackends, environment, withBackend } from './support/backends';
import { fmt, mb, now, table } from './support/report';
import { collectGarbage, sampleRss } from './support/resources';
import { descendantsOf, memoryOf } from './support/process-tree-memory';
import { runMain } from './support/run-main';
import { workloadAdmission } from './support/workload-admission';
import { writeLongBundle } from '../testkit/long-bundle';
import { optionText, positiveIntegerOption } from './support/options';

const TENANT = 'bench-export';
const ECS = path.join(__dirname, '..', 'bin', 'ecs.js');
/** V8 old-space cap of the exporter process (PostgreSQL): the passes must fit in it whatever the chain length. */
const HEAP_CAP_MB = 256;

function eventsFor(kind: DatabaseKind): number {
  return kind === 'postgresql' ? positiveIntegerOption('events', 1_000_000) : positiveIntegerOption('pglite-events', 100_000);
}

interface Phase {
  phase: string;
  events: number;
  seconds: number;
  rssBefore: number;
  peakRss: number;
  note: string;
}

async function measured<T>(
  phase: string,
  events: number,
  work: () => Promise<T>,
  note: (result: T) => string,
): Promise<{ result: T; row: Phase }> {
  collectGarbage();
  const sampler = await sampleRss(100);
  const started = now();
  const result = await work();
  const seconds = (now() - started) / 1000;
  const memory = await sampler.stop();
  const row = { phase, events, seconds, rssBefore: memory.first, peakRss: memory.peak, note: note(result) };
  console.log(
    `  ${phase}: ${fmt(events)} events in ${fmt(seconds, 1)} s (${fmt(events / seconds)} events/s), RSS ${mb(memory.first)} -> peak ${mb(memory.peak)}; ${row.note}`,
  );
  return { result, row };
}

/**
 * `node bin/ecs.js <args>` (e.g. `verify <file> --jwks <jwks> --json`), with the peak RSS of
 * its whole process tree: the kernel high-water mark of the one process bin/ecs.js runs in, or,
 * should it ever start others, the larger of that and the highest sum of the tree's RSS sampled
 * every 100 ms (`processes`: how many were seen).
 */
async function ecsWithPeak(
  args: readonly string[],
): Promise<{ seconds: number; peakRss: number; processes: number; ok: boolean; output: string }> {
  const started = now();
  const peaks = new Map<number, number>();
  let treePeak = 0;
  const child = execFile(process.execPath, [ECS, ...args], { maxBuffer: 64 * 1024 * 1024 });
  let output = '';
  child.stdout?.on('data', (chunk: string) => (output += chunk));
  const sample = () => {
    let sum = 0;
    for (const pid of [child.pid!, ...descendantsOf(child.pid!)]) {
      const memory = memoryOf(pid);
      if (memory.peak > 0) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, memory.peak));
      sum += memory.current;
    }
    treePeak = Math.max(treePeak, sum);
  };
  const timer = setInterval(sample, 100);
  // The last sample before the process is reaped: its high-water mark is final by then.
  child.stdout?.once('end', sample);
  const code = await new Promise<number>((resolve) => child.once('exit', (exitCode) => resolve(exitCode ?? 1)));
  clearInterval(timer);
  const largest = Math.max(0, ...peaks.values());
  const peakRss = peaks.size > 1 ? Math.max(largest, treePeak) : largest;
  return { seconds: (now() - started) / 1000, peakRss, processes: peaks.size, ok: code === 0, output };
}

interface ExportResult {
  phases: Phase[];
  bundleBytes: number;
}

/**
 * The exporter's two passes over a filled chain: the plan (as the export worker runs it) and
 * the .tar.gz stream (as a download is served), writing the archive to `file`.
 */
async function exportPhases(db: Database, events: number, work: string): Promise<ExportResult> {
  const keys = await loadSigningKeys(path.join(work, 'signing-keys.json'));
  await writeFile(path.join(work, 'jwks.json'), JSON.stringify(keys.jwks));
  const scope = {
    tenantId: TENANT,
    chainId: chainIdFor(TENANT),
    fromSequence: 1,
    toSequence: events,
    profileId: 'ecs-evidence-admissible',
  };
  const source = chainSource(db, scope);
  const plan = await measured(
    'plan (export job)',
    events,
    async (): Promise<BundlePlan> => {
      const repeated = await repeatedPointers(db, scope);
      return planBundle({
        source,
        scope,
        producer: { issuerId: 'bench', producerId: 'ecs-gateway-exporter' },
        signer: keys,
        exportId: 'exp-bench',
        createdAt: new Date(),
        repeatedPointers: repeated,
      });
    },
    (result) => `events.jsonl ${mb(result.events.size)}, chain-segment.json ${mb(result.segment.size)}`,
  );
  // The plan is what the export row stores.
  const stored = JSON.parse(JSON.stringify(plan.result)) as BundlePlan;
  const file = path.join(work, 'bundle.tar.gz');
  const stream = await measured(
    'stream .tar.gz (download)',
    events,
    async () => {
      await pipeline(bundleTarGzStream(stored, source), createWriteStream(file));
      return (await stat(file)).size;
    },
    (bytes) => `${mb(bytes)} gzip`,
  );
  return { phases: [plan.row, stream.row], bundleBytes: stream.result };
}

/**
 * Runs the export phases in a fresh process with a small V8 heap (`--max-old-space-size`):
 * its RSS is the exporter's alone (not the fill's), and finishing at all within the cap shows
 * that memory does not grow with the number of events.
 */
async function exportInChild(databaseUrl: string, events: number, work: string): Promise<ExportResult> {
  const resultFile = path.join(work, 'export-result.json');
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_CAP_MB}`,
      ...process.execArgv,
      __filename,
      '--child',
      `--database-url=${databaseUrl}`,
      `--events=${events}`,
      `--work=${work}`,
      `--result-file=${resultFile}`,
    ],
    { stdio: 'inherit' },
  );
  const code = await new Promise<number>((resolve) => child.once('exit', (exitCode, signal) => resolve(signal ? 1 : (exitCode ?? 1))));
  if (code !== 0) throw new Error(`the export child process exited with ${code}`);
  return JSON.parse(await readFile(resultFile, 'utf8')) as ExportResult;
}

/** Said only when the command ran in more than one process (the peak then covers them all). */
const processesNote = (processes: number): string => (processes > 1 ? `, ${processes} processes` : '');

async function verifyPhases(events: number, work: string, { unpacked = false, directory = true } = {}): Promise<Phase[]> {
  const [file, jwks, dir] = [path.join(work, 'bundle.tar.gz'), path.join(work, 'jwks.json'), path.join(work, 'unpacked')];
  const start = await ecsWithPeak(['help']);
  console.log(`  ecs help (the command's start alone): peak RSS ${mb(start.peakRss)}`);
  const rows: Phase[] = [
    {
      phase: 'ecs help (start-up only)',
      events: 0,
      seconds: start.seconds,
      rssBefore: NaN,
      peakRss: start.peakRss,
      note: `tsx + cli/ecs.ts imports${processesNote(start.processes)}`,
    },
  ];
  for (const [label, target] of [
    ['ecs verify bundle.tar.gz', file],
    ['ecs verify <unpacked directory>', dir],
  ] as const) {
    if (target === dir && !directory) continue;
    if (target === dir && !unpacked) {
      await mkdir(dir);
      await new Promise<void>((resolve, reject) =>
        execFile('tar', ['-xzf', file, '-C', dir], (error) => (error ? reject(error) : resolve())),
      );
    }
    const verified = await ecsWithPeak(['verify', target, '--jwks', jwks, '--json']);
    if (!verified.ok) throw new Error(`ecs verify failed: ${verified.output.slice(0, 2000)}`);
    console.log(
      `  ${label}: VALID in ${fmt(verified.seconds, 1)} s (${fmt(events / verified.seconds)} events/s), peak RSS ${mb(verified.peakRss)}`,
    );
    rows.push({
      phase: `${label} (child process)`,
      events,
      seconds: verified.seconds,
      rssBefore: NaN,
      peakRss: verified.peakRss,
      note: `VALID, --jwks${processesNote(verified.processes)}`,
    });
  }
  return rows;
}

/** `--fill=sql`: the chain built by the server (bench/server-fill.ts), not sent over from Node. */
const serverSide = optionText('fill') === 'sql';
if (optionText('fill') !== undefined && !serverSide) throw new Error('--fill takes only sql');

async function benchBackend(
  kind: DatabaseKind,
): Promise<{ kind: DatabaseKind; fill: { events: number; seconds: number }; phases: Phase[]; bundleBytes: number }> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'ecs-bench-export-'));
  try {
    return await withBackend(kind, async ({ db, databaseUrl, location }) => {
      const events = eventsFor(kind);
      console.log(`\n## ${kind}: ${location}, ${fmt(events)} events`);
      const fillStarted = now();
      let reported = fillStarted;
      const progress = (done: number) => {
        if (now() - reported > 15_000 || done === events) {
          reported = now();
          console.log(`  filled ${fmt(done)} / ${fmt(events)} (${fmt(done / ((now() - fillStarted) / 1000))} events/s)`);
        }
      };
      if (serverSide) await serverFill(db, TENANT, events, progress);
      else await bulkFill(db, TENANT, events, (n) => workloadAdmission(TENANT, n), progress);
      const fill = { events, seconds: (now() - fillStarted) / 1000 };
      if (kind === 'postgresql') await db.prisma.$executeRawUnsafe('ANALYZE audit_evidence_events, audit_evidence_artifacts');
      // PGlite is owned by this process: its exporter runs here (RSS includes the database).
      const exported = databaseUrl ? await exportInChild(databaseUrl, events, work) : await exportPhases(db, events, work);
      return { kind, fill, phases: [...exported.phases, ...(await verifyPhases(events, work))], bundleBytes: exported.bundleBytes };
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function argValue(name: string): string | undefined {
  return process.argv
    .slice(2)
    .find((arg) => arg.startsWith(`--${name}=`))
    ?.slice(name.length + 3);
}

async function child(): Promise<void> {
  const db = await openDatabase({ databaseUrl: argValue('database-url'), dataDir: argValue('work')! });
  try {
    const result = await exportPhases(db, Number(argValue('events')), argValue('work')!);
    await writeFile(argValue('result-file')!, JSON.stringify(result));
  } finally {
    await db.close();
  }
}

/** `--archive-only` (with `--synthetic`): the bundle written straight into its .tar.gz, verified from it alone. */
const archiveOnly = process.argv.includes('--archive-only');

/** The verifier alone on a synthetic signed bundle: written, packed, verified as archive and directory. */
async function synthetic(): Promise<void> {
  const events = positiveIntegerOption('events', 1_000_000);
  const eventsPerRecord = positiveIntegerOption('events-per-record', 1);
  const work = await mkdtemp(path.join(os.tmpdir(), 'ecs-bench-verify-'));
  try {
    console.log(`# export-bundle --synthetic: ${environment()}\n\n${fmt(events)} events, one decision record per ${eventsPerRecord}`);
    const keys = await loadSigningKeys(path.join(work, 'signing-keys.json'));
    await writeFile(path.join(work, 'jwks.json'), JSON.stringify(keys.jwks));
    const dir = path.join(work, 'unpacked');
    let started = now();
    if (archiveOnly) {
      await writeLongBundle(path.join(work, 'staging'), {
        count: events,
        eventsPerRecord,
        signer: keys,
        archive: path.join(work, 'bundle.tar.gz'),
      });
      await rm(path.join(work, 'staging'), { recursive: true, force: true });
    } else {
      await writeLongBundle(dir, { count: events, eventsPerRecord, signer: keys });
      console.log(`  written in ${fmt((now() - started) / 1000, 1)} s`);
      started = now();
      await new Promise<void>((resolve, reject) =>
        execFile('tar', ['-czf', path.join(work, 'bundle.tar.gz'), '-C', dir, '.'], (error) => (error ? reject(error) : resolve())),
      );
    }
    const packed = await stat(path.join(work, 'bundle.tar.gz'));
    console.log(`  ${archiveOnly ? 'written as .tar.gz' : 'packed'} in ${fmt((now() - started) / 1000, 1)} s: ${mb(packed.size)} gzip`);
    const rows = await verifyPhases(events, work, { unpacked: true, directory: !archiveOnly });
    console.log('\n### export-bundle --synthetic\n');
    console.log(
      table(
        ['phase', 'events', 'time s', 'events/s', 'peak RSS', 'note'],
        rows.map((row) => [
          row.phase,
          fmt(row.events),
          fmt(row.seconds, 1),
          row.events > 0 ? fmt(row.events / row.seconds) : '-',
          mb(row.peakRss),
          row.note,
        ]),
      ),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

runMain(async () => {
  if (process.argv.includes('--child')) return child();
  if (process.argv.includes('--synthetic')) return synthetic();
  const backends = backendsFromArgs(
    process.argv.slice(2).some((arg) => arg.startsWith('--backend=')) ? undefined : ['--backend=postgresql'],
  );
  await checkBackends(backends);
  console.log(`# export-bundle: ${environment()}`);
  const results = [];
  for (const kind of backends) results.push(await benchBackend(kind));
  console.log('\n### export-bundle\n');
  console.log(
    table(
      ['backend', 'phase', 'events', 'time s', 'events/s', 'RSS before', 'peak RSS', 'note'],
      results.flatMap(({ kind, phases }) =>
        phases.map((row) => [
          kind,
          row.phase,
          fmt(row.events),
          fmt(row.seconds, 1),
          row.events > 0 ? fmt(row.events / row.seconds) : '-',
          Number.isNaN(row.rssBefore) ? '-' : mb(row.rssBefore),
          mb(row.peakRss),
          row.note,
        ]),
      ),
    ),
  );
  for (const { kind, fill } of results)
    console.log(
      `- ${kind}: fill (${serverSide ? 'built by the server, --fill=sql' : 'bulk INSERT, 2,000 rows per statement'}) ${fmt(fill.events)} events in ${fmt(fill.seconds, 1)} s`,
    );
});
