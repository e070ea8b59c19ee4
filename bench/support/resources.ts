// What a benchmark measures besides time: garbage collection, CPU, resident memory, lock waits.
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { now } from './report';

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
  // The connection dies with its database (dropped WITH (FORCE) on Ctrl-C): sampling then
  // stops, rather than the process crashing on an unhandled error.
  client.on('error', () => undefined);
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
  })().catch(() => undefined);
  return {
    async stop() {
      running = false;
      await loop;
      await client.end().catch(() => undefined);
      const sum = counts.reduce((a, b) => a + b, 0);
      return { max: counts.length ? Math.max(...counts) : 0, mean: counts.length ? sum / counts.length : 0, samples: counts.length };
    },
  };
}

/**
 * Bytes of write-ahead log the whole server wrote between the call and `stop()`
 * (`pg_current_wal_lsn`): with nothing else writing, what the measured work costs the log,
 * which every commit waits to flush.
 */
export async function measureWal(databaseUrl: string): Promise<{ stop(): Promise<number> }> {
  const position = async (): Promise<bigint> => {
    const client = new Client({ connectionString: databaseUrl });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ at: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS at`);
      return BigInt(rows[0]!.at);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const started = await position();
  return { stop: async () => Number((await position()) - started) };
}
