// A fresh database per backend for a benchmark (cleaned up even on failure or Ctrl-C), and
// a description of the environment the figures were taken in.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { openDatabase } from '../../lib/db/database';
import type { Database, DatabaseKind } from '../../lib/db/database';
import { createPostgresDatabase, postgresAdminUrl } from '../../testkit/test-database';
import { registerCleanup, runCleanup } from './run-main';

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

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
  registerCleanup(removeDir);
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
      registerCleanup(dropDatabase);
    }
    const db = await openDatabase({ dataDir, databaseUrl, poolSize: options.poolSize });
    closeDb = () => withTimeout(db.close(), 30_000, 'closing the database');
    registerCleanup(closeDb);
    const migrationNote = await migrate(db);
    const location = databaseUrl ? `database ${new URL(databaseUrl).pathname.slice(1)}` : `DATA_DIR ${dataDir}`;
    return await work({ kind, db, databaseUrl, migrationNote, location });
  } finally {
    // Order matters: close the client before dropping its database / removing its files.
    for (const cleanup of [closeDb, dropDatabase, removeDir]) await runCleanup(cleanup, kind);
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
