// Shared helpers of the benchmarks: a fresh database per backend (cleaned up even on
// failure or Ctrl-C), a realistic evidence input, statistics, tables and an RSS sampler.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { openDatabase } from '../lib/db/database';
import type { Database, DatabaseKind } from '../lib/db/database';
import type { EvidenceInput } from '../lib/evidence/evidence-event';
import { createPostgresDatabase, postgresAdminUrl } from '../test/support/test-database';

export type { Database, DatabaseKind };

// ---------------------------------------------------------------------------------------
// Cleanup that also runs on SIGINT / SIGTERM, and a process that always exits by itself.

const cleanups = new Set<() => Promise<void>>();
let exiting = false;

/** Runs `cleanup` on exit, failure or Ctrl-C unless unregistered first. */
export function registerCleanup(cleanup: () => Promise<void>): void {
  cleanups.add(cleanup);
}

export function unregisterCleanup(cleanup: () => Promise<void>): void {
  cleanups.delete(cleanup);
}

async function runCleanups(): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    await cleanup().catch((error: unknown) => console.error('[bench] cleanup failed:', error));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    console.error(`\n[bench] ${signal}: cleaning up`);
    const force = setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), 15_000);
    void runCleanups().finally(() => {
      clearTimeout(force);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  });
}

/**
 * Runs a benchmark's main function; exits with 1 on failure. If something (a pool, a
 * timer) still keeps the process alive 10 s after the work is done, says so and exits.
 */
export function runMain(main: () => Promise<void>): void {
  main()
    .catch((error: unknown) => {
      // After Ctrl-C the database is closed under the running work: not a benchmark failure.
      if (!exiting) console.error('\n[bench] FAILED:', error);
      process.exitCode = 1;
    })
    .finally(async () => {
      await runCleanups();
      setTimeout(() => {
        console.error('[bench] WARNING: open handles kept the process alive 10 s after the end; forcing exit');
        process.exit(process.exitCode ?? 0);
      }, 10_000).unref();
    });
}

/**
 * Lets timers, I/O and signal handlers run. On PGlite a chain of queries never leaves the
 * microtask queue (the database runs in-process), so without this a long benchmark loop
 * would not even see Ctrl-C until it ends.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------
// Backends.

export const ALL_BACKENDS: DatabaseKind[] = ['pglite', 'postgresql'];

/** `--backend=pglite|postgresql` (repeatable or comma-separated); both by default. */
export function backendsFromArgs(argv = process.argv.slice(2)): DatabaseKind[] {
  const chosen = argv
    .filter((arg) => arg.startsWith('--backend='))
    .flatMap((arg) => arg.slice('--backend='.length).split(','))
    .map((name) => (name === 'pg' || name === 'postgres' ? 'postgresql' : name));
  for (const name of chosen) {
    if (!ALL_BACKENDS.includes(name as DatabaseKind)) throw new Error(`unknown backend "${name}"`);
  }
  return chosen.length ? ALL_BACKENDS.filter((kind) => chosen.includes(kind)) : ALL_BACKENDS;
}

/** Fails early (before minutes of PGlite work) when PostgreSQL is asked for but not reachable. */
export async function checkBackends(kinds: DatabaseKind[]): Promise<void> {
  if (!kinds.includes('postgresql')) return;
  const client = new Client({ connectionString: postgresAdminUrl(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL at ${postgresAdminUrl()} is not reachable (set ECS_TEST_POSTGRES_URL, or pass --backend=pglite): ${String(error)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

const DATA_DIR_PREFIX = 'ecs-bench-';
const OWNER_FILE = 'bench.pid';

/**
 * Removes data directories of earlier benchmark processes that are gone (killed with
 * SIGKILL, e.g. by tsx when a PGlite loop did not answer Ctrl-C in time). Directories of
 * live processes are left alone.
 */
async function removeStaleDataDirs(): Promise<void> {
  const entries = await readdir(os.tmpdir()).catch(() => [] as string[]);
  for (const entry of entries.filter((name) => name.startsWith(DATA_DIR_PREFIX))) {
    const dir = path.join(os.tmpdir(), entry);
    const owner = Number(await readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => NaN));
    if (!Number.isInteger(owner) || owner === process.pid || isAlive(owner)) continue;
    console.error(`[bench] removing ${dir}, left behind by process ${owner}`);
    await rm(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Backend {
  kind: DatabaseKind;
  db: Database;
  /** URL of the fresh PostgreSQL database (postgresql only). */
  databaseUrl?: string;
  /** What `db.migrate()` did. */
  migrationNote: string;
  /** Where the data lives (temporary directory or database name). */
  location: string;
}

/**
 * Opens a fresh database of one kind (a temporary DATA_DIR for PGlite, a fresh
 * `ecs_test_<random>` database on PostgreSQL), migrates it, runs `work`, and removes
 * the database again whatever happens.
 */
export async function withBackend<T>(
  kind: DatabaseKind,
  work: (backend: Backend) => Promise<T>,
  options: { poolSize?: number } = {},
): Promise<T> {
  await removeStaleDataDirs();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), DATA_DIR_PREFIX));
  await writeFile(path.join(dataDir, OWNER_FILE), String(process.pid));
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  cleanups.add(removeDir);
  let dropDatabase: (() => Promise<void>) | undefined;
  let closeDb: (() => Promise<void>) | undefined;
  try {
    let databaseUrl: string | undefined;
    if (kind === 'postgresql') {
      const created = await createPostgresDatabase().catch((error: unknown) => {
        throw new Error(`cannot create a database on ${postgresAdminUrl()} (set ECS_TEST_POSTGRES_URL): ${String(error)}`);
      });
      databaseUrl = created.databaseUrl;
      dropDatabase = () => withTimeout(created.drop(), 30_000, 'DROP DATABASE');
      cleanups.add(dropDatabase);
    }
    const db = await openDatabase({ dataDir, databaseUrl, poolSize: options.poolSize });
    closeDb = () => withTimeout(db.close(), 30_000, 'closing the database');
    cleanups.add(closeDb);
    const migrationNote = await migrate(db);
    const location = databaseUrl ? `database ${new URL(databaseUrl).pathname.slice(1)}` : `DATA_DIR ${dataDir}`;
    return await work({ kind, db, databaseUrl, migrationNote, location });
  } finally {
    // Order matters: close the client before dropping its database / removing its files.
    for (const cleanup of [closeDb, dropDatabase, removeDir]) {
      if (!cleanup || !cleanups.has(cleanup)) continue;
      cleanups.delete(cleanup);
      await cleanup().catch((error: unknown) => console.error(`[bench] cleanup of ${kind} failed:`, error));
    }
  }
}

/** `db.migrate()`, as every process does first; fails the benchmark when it fails. */
async function migrate(db: Database): Promise<string> {
  const applied = await db.migrate();
  return `db.migrate() applied ${applied.length} migration(s)`;
}

/** Short description of the environment, printed above the tables. */
export function environment(): string {
  const cpus = os.cpus();
  return `node ${process.version}, ${cpus.length} x ${cpus[0]?.model.trim() ?? 'cpu'}, load average ${os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`;
}

export async function postgresVersion(databaseUrl: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return `PostgreSQL ${rows[0]?.server_version ?? '?'}`;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------
// Workload.

const CLASSIFICATIONS = ['public', 'internal', 'restricted', 'confidential'];
const JURISDICTIONS = ['EU', 'EU-DE', 'EU-FR', 'EU-NL'];

/** A `workload.admit` event as `createWorkload` (subgraphs/execution) appends it. */
export function workloadAdmission(tenantId: string, n: number): EvidenceInput {
  return {
    tenantId,
    eventType: 'workload.admit',
    actor: `spiffe://ecs.example.eu/tenant/${tenantId}/sa/deployer-${n % 3}`,
    outcome: 'accepted',
    correlationId: randomUUID(),
    details: {
      action: 'workload.deploy',
      workload_id: randomUUID(),
      envelope_type: n % 5 === 0 ? 'vm' : 'oci-container',
      image_ref: `registry.ecs.example.eu/${tenantId}/service-${n % 17}@sha256:${randomBytes(32).toString('hex')}`,
      classification: CLASSIFICATIONS[n % CLASSIFICATIONS.length]!,
      jurisdiction: JURISDICTIONS[n % JURISDICTIONS.length]!,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Statistics, formatting, memory.

export const now = (): number => performance.now();

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '-';
  const factor = 10 ** digits;
  if (Math.round(value * factor) === 0) value = 0; // no "-0"
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const mb = (bytes: number): string => `${fmt(bytes / 1024 / 1024)} MB`;

/** A Markdown table with aligned columns (numbers right-aligned). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((row) => /^[-\d.,×x% ]*(MB|ms|s)?$/.test(row[i] ?? '')));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => (numeric[i] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

let gcFunction: (() => void) | undefined;
/** Full garbage collection (enables `--expose-gc` at run time if needed). */
export function collectGarbage(): void {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
}

/** CPU used by this process and by the whole machine (percent of one core / of all cores) between start and stop. */
export function measureCpu(): { stop(): { processPercent: number; machinePercent: number } } {
  const wallStart = now();
  const processStart = process.cpuUsage();
  const machineStart = machineTimes();
  return {
    stop() {
      const wallMs = now() - wallStart;
      const used = process.cpuUsage(processStart);
      const machine = machineTimes();
      const busy = machine.busy - machineStart.busy;
      const total = machine.total - machineStart.total;
      return {
        processPercent: ((used.user + used.system) / 1000 / wallMs) * 100,
        machinePercent: total > 0 ? (busy / total) * 100 : NaN,
      };
    },
  };
}

function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

// The sampler runs in a worker thread: on PGlite a chain of queries resolves entirely in
// microtasks (the database runs in-process), so timers of the main thread do not fire until
// it ends. The resident set size is the whole process's, whichever thread reads it.
const RSS_SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const samples = [];
const started = performance.now();
const take = () => samples.push({ t: performance.now() - started, rss: process.memoryUsage.rss() });
take();
const timer = setInterval(take, workerData.intervalMs);
parentPort.postMessage('started');
parentPort.once('message', () => {
  clearInterval(timer);
  take();
  parentPort.postMessage(samples);
});
`;

/** Samples the process's RSS every `intervalMs` (from a worker thread) until stopped. */
export async function sampleRss(intervalMs = 100): Promise<{
  stop(): Promise<{ samples: Array<{ t: number; rss: number }>; first: number; peak: number }>;
}> {
  const worker = new Worker(RSS_SAMPLER, { eval: true, workerData: { intervalMs } });
  const started = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  await started;
  return {
    async stop() {
      const result = new Promise<Array<{ t: number; rss: number }>>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      worker.postMessage('stop');
      const samples = await result;
      await worker.terminate();
      return { samples, first: samples[0]!.rss, peak: Math.max(...samples.map((sample) => sample.rss)) };
    },
  };
}

/** Samples PostgreSQL sessions of one database waiting on a lock (pg_stat_activity). */
export async function sampleLockWaits(
  databaseUrl: string,
  intervalMs = 50,
): Promise<{ stop(): Promise<{ max: number; mean: number; samples: number }> }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const counts: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ waiting: string }>(
        `SELECT count(*) AS waiting FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
      );
      counts.push(Number(rows[0]?.waiting ?? 0));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop.catch(() => undefined);
      await client.end();
      const sum = counts.reduce((a, b) => a + b, 0);
      return { max: counts.length ? Math.max(...counts) : 0, mean: counts.length ? sum / counts.length : 0, samples: counts.length };
    },
  };
}
