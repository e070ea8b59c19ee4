// Streaming of large storage objects: a 200 MB PUT and GET through the gateway
// (`/v1/storage/{bucket}/objects/{key}`) of a real server process (`npm start`, PGlite), and
// the server's memory while the bytes pass: RSS sampled from /proc every 50 ms, and the
// kernel's peak (VmHWM). Flat memory means the peak grows by a small fraction of the object.
//
//   npx tsx bench/storage-stream.ts [--mb=200]
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { adminHeaders, startServerProcess } from '../testkit/spawn-server';
import type { StartedServer } from '../testkit/spawn-server';
import { makeTempDir } from '../testkit/temp-dir';
import { fmt, mb, table } from './support/report';
import { registerCleanup, runMain } from './support/run-main';
import { positiveIntegerOption } from './support/options';

/** The node process tsx started for the server (the child of the tsx process). */
function serverPid(tsxPid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === tsxPid) return Number(entry);
    } catch {
      // the process went away
    }
  }
  return tsxPid;
}

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples the server's RSS while `work` runs; returns the work's result, its time and the peak. */
async function watched<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; seconds: number; peakRss: number }> {
  let peakRss = memory(pid).rss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, memory(pid).rss);
  }, 50);
  const started = performance.now();
  try {
    const result = await work();
    return { result, seconds: (performance.now() - started) / 1000, peakRss: Math.max(peakRss, memory(pid).rss) };
  } finally {
    clearInterval(timer);
  }
}

runMain(async () => {
  const megabytes = positiveIntegerOption('mb', 200);
  const chunk = randomBytes(1024 * 1024);
  const size = chunk.length * megabytes;
  const hash = createHash('sha256');
  for (let i = 0; i < megabytes; i += 1) hash.update(chunk);
  const digest = hash.digest('hex');

  const dir = await makeTempDir('ecs-bench-storage-');
  let server: StartedServer | undefined;
  registerCleanup(async () => {
    await server?.kill();
    await dir.remove();
  });
  server = await startServerProcess({ env: { DATA_DIR: dir.path, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000' } });
  const pid = serverPid(server.process.pid!);
  const auth = await adminHeaders(dir.path);
  const json = { ...auth, 'content-type': 'application/json' };
  const base = server.origin;
  const created = await request(`${base}/v1/tenants`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({
      id: 'bench-storage',
      authority_binding: 'auth-dev-001',
      jurisdiction: 'DE',
      policy_baseline: 'ecs-baseline-v1',
    }),
  });
  if (created.statusCode !== 201) throw new Error(`tenant not created: ${created.statusCode} ${await created.body.text()}`);
  await created.body.dump();
  const bucket = await request(`${base}/v1/storage/bench-bucket`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ tenant_id: 'bench-storage', jurisdiction: 'DE' }),
  });
  if (bucket.statusCode !== 201) throw new Error(`bucket not created: ${bucket.statusCode} ${await bucket.body.text()}`);
  await bucket.body.dump();

  const governance = (integrity: string, length: number) => ({
    ...auth,
    'x-eosc-jurisdiction': 'DE',
    'x-eosc-retention-ttl': 'P0D',
    'x-eosc-integrity': `sha256:${integrity}`,
    'x-eosc-classification': 'internal',
    'x-eosc-evidence-pointer': 'eosc://evidence/bench',
    'x-eosc-data-product-id': 'dp-bench',
    'x-eosc-usage-policy-snapshot-id': 'pol-bench',
    'x-eosc-consent-token-ref': 'consent-bench',
    'content-type': 'application/octet-stream',
    'content-length': String(length),
  });
  const put = async (key: string, chunks: number, integrity: string) => {
    const response = await request(`${base}/v1/storage/bench-bucket/objects/${key}`, {
      method: 'PUT',
      headers: governance(integrity, chunk.length * chunks),
      body: Readable.from(
        (function* () {
          for (let i = 0; i < chunks; i += 1) yield chunk;
        })(),
      ),
    });
    const text = await response.body.text();
    if (response.statusCode !== 201) throw new Error(`PUT ${key}: ${response.statusCode} ${text}`);
  };
  const get = async (key: string) => {
    const response = await request(`${base}/v1/storage/bench-bucket/objects/${key}`, { headers: auth });
    const read = createHash('sha256');
    let bytes = 0;
    for await (const part of response.body) {
      read.update(part as Buffer);
      bytes += (part as Buffer).length;
    }
    if (response.statusCode !== 200) throw new Error(`GET ${key}: ${response.statusCode}`);
    return { bytes, sha256: read.digest('hex') };
  };

  // Warm-up: the code paths of a put and a get run once before the baseline is taken.
  const small = createHash('sha256').update(chunk).digest('hex');
  await put('warm-up', 1, small);
  await get('warm-up');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const baseline = memory(pid);

  const upload = await watched(pid, () => put('large.bin', megabytes, digest));
  const download = await watched(pid, () => get('large.bin'));
  if (download.result.bytes !== size || download.result.sha256 !== digest) throw new Error('the download differs from the upload');
  const final = memory(pid);

  console.log(`${mb(size)} object through the gateway and the data plane, one server process (npm start, PGlite):`);
  console.log(
    table(
      ['phase', 'MB/s', 'server RSS peak', 'growth over baseline', 'growth / object size'],
      [
        ['baseline (idle, after warm-up)', '-', mb(baseline.rss), '-', '-'],
        [
          'PUT 200 MB (streamed, hashed, fsynced)',
          fmt(size / 1024 / 1024 / upload.seconds),
          mb(upload.peakRss),
          mb(upload.peakRss - baseline.rss),
          `${fmt(((upload.peakRss - baseline.rss) / size) * 100, 1)} %`,
        ],
        [
          'GET 200 MB (streamed)',
          fmt(size / 1024 / 1024 / download.seconds),
          mb(download.peakRss),
          mb(download.peakRss - baseline.rss),
          `${fmt(((download.peakRss - baseline.rss) / size) * 100, 1)} %`,
        ],
      ],
    ),
  );
  console.log(`kernel peak RSS of the server process over its whole life (VmHWM, includes start-up): ${mb(final.hwm)}`);
  await server.stop('SIGTERM');
  server = undefined;
});
