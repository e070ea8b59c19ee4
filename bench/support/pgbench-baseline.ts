// The server-side floor of a hash-chained append: pgbench running the chained-append
// function of the shared baseline (`schema.sql` and `chain1.sql` of bench-baselines/pgbench:
// lock the chain head, sha256 over the previous hash and the payload, insert, move the head)
// in a scratch database on the benchmark's own server, with a real ledger event as payload.
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { registerCleanup, runCleanup, unregisterCleanup } from './run-main';

export interface RawRun {
  /** pgbench's `tps = X` (without the initial connection time). */
  tps: number;
  transactions: number;
  failed: number;
  latencyMs: number;
}

export interface RawBaseline {
  /** URL of the scratch database. */
  readonly url: string;
  /** Bytes of the payload each append stores. */
  readonly payloadBytes: number;
  /** `clients` connections, client c appending to tenant c mod `tenants`, for `seconds`. */
  run(options: { clients: number; tenants: number; seconds: number }): Promise<RawRun>;
  /** Drops the scratch database and removes the script. */
  close(): Promise<void>;
}

/** Fails early, with what to do, when the baseline or pgbench is missing. */
export async function checkRawBaseline(dir: string): Promise<void> {
  for (const file of ['schema.sql', 'chain1.sql']) {
    if (!existsSync(path.join(dir, file))) {
      throw new Error(
        `the pgbench baseline is missing: ${path.join(dir, file)} not found (pass --baseline-dir=<dir>, or --backend=pglite)`,
      );
    }
  }
  await pgbench(['--version']).catch((error: unknown) => {
    throw new Error(`pgbench is not on PATH (needed for the raw baseline; or pass --backend=pglite): ${String(error)}`);
  });
}

/**
 * Creates `ecs_bench_raw_<pid>` on the server of `serverUrl`, loads the baseline's schema
 * and writes a pgbench script that appends `payload` (a JSON text) with `append_event`.
 */
export async function openRawBaseline({
  serverUrl,
  dir,
  payload,
}: {
  serverUrl: string;
  dir: string;
  payload: string;
}): Promise<RawBaseline> {
  await checkRawBaseline(dir);
  const name = `ecs_bench_raw_${process.pid}`;
  // The database name replaced, query string kept, as run.sh does.
  const target = new URL(serverUrl);
  target.pathname = `/${name}`;
  const url = target.toString();
  const drop = () => onDatabase(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const scriptDir = await mkdtemp(path.join(os.tmpdir(), 'ecs-pgbench-'));
  const removeScript = () => rm(scriptDir, { recursive: true, force: true });
  registerCleanup(removeScript);
  registerCleanup(drop);
  const close = async () => {
    await runCleanup(drop, `database ${name}`);
    await runCleanup(removeScript, scriptDir);
  };
  try {
    await drop();
    await onDatabase(serverUrl, `CREATE DATABASE ${name}`);
    await onDatabase(url, await readFile(path.join(dir, 'schema.sql'), 'utf8'));
    const script = path.join(scriptDir, 'chain1-event.sql');
    await writeFile(script, appendScript(dir, payload));
    return {
      url,
      payloadBytes: Buffer.byteLength(payload),
      close,
      run: async ({ clients, tenants, seconds }) => {
        const threads = String(Math.min(clients, 4));
        const args = [url, '-n', '-f', script, '-D', `ntenants=${tenants}`, '-c', String(clients), '-j', threads, '-T', String(seconds)];
        return parseOutput(await pgbench(args, (seconds + 60) * 1000));
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * chain1.sql with the payload of a real event. Writer c appends to tenant c mod ntenants,
 * as the ledger benchmark's writers do (chain1.sql draws a random tenant per append, which
 * with 64 writers on 64 tenants would make them wait on each other's chain heads).
 */
function appendScript(dir: string, payload: string): string {
  return [
    `-- ${path.join(dir, 'chain1.sql')}, with the canonical text of a workload.admit event (${Buffer.byteLength(payload)} bytes)`,
    '\\set t :client_id % :ntenants + 1',
    `SELECT append_event(:t, ${sqlLiteral(payload)});`,
    '',
  ].join('\n');
}

/** A string constant that means the same whatever `standard_conforming_strings` is. */
function sqlLiteral(text: string): string {
  if (/[\r\n]/.test(text)) throw new Error('a pgbench command must fit on one line');
  const quoted = text.replace(/'/g, "''");
  return text.includes('\\') ? `E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

function parseOutput(output: string): RawRun {
  const number = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? NaN);
  const tps = number(/tps = ([0-9.]+)/);
  if (!Number.isFinite(tps)) throw new Error(`no "tps = " in the output of pgbench: ${output.slice(-500)}`);
  return {
    tps,
    transactions: number(/number of transactions actually processed: (\d+)/),
    failed: number(/number of failed transactions: (\d+)/) || 0,
    latencyMs: number(/latency average = ([0-9.]+) ms/),
  };
}

/** Runs pgbench; killed on Ctrl-C with the rest of the benchmark. */
function pgbench(args: string[], timeoutMs = 30_000): Promise<string> {
  let child: ChildProcess | undefined;
  const kill = async () => {
    child?.kill('SIGTERM');
  };
  registerCleanup(kill);
  return new Promise<string>((resolve, reject) => {
    child = execFile(
      'pgbench',
      args,
      { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`pgbench ${args.slice(1).join(' ')} failed: ${error.message} ${stderr.slice(-500)}`.trim()));
        else resolve(`${stdout}\n${stderr}`);
      },
    );
  }).finally(() => unregisterCleanup(kill));
}

async function onDatabase(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
