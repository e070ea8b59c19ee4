// Tenant migration at size (issue 20, item 7): two deployments, source and target, each a real
// `cli/start.ts` process with its own data directory and database, and one tenant of `--bytes`
// of objects and `--events` evidence events moved from one to the other over REST, as
// docs/migration.md describes it. Timed, each as wall time: the export (requested, polled
// until completed) with the package's download, the import on the target (the upload, every
// gate and the materialisation, all in one request) and the activation. The peak RSS of both
// server processes (their process trees) is sampled every 100 ms during the whole run.
//
// Baseline in the same run: `tar -czf` of the same object bytes (written to a scratch
// directory as they are uploaded) and `tar -xzf` of that archive, once before the export and
// once after the activation (the machine's load varies). The goal is
// (export + download + import) <= 3x (tar create + extract, the mean of the two), with flat
// memory: the same steps run first at 1/8 of the size, and both peaks are reported side by side.
//
//   npx tsx bench/tenant-migration.ts [--backend=postgresql|embedded] [--bytes=N] [--events=N] [--no-small]
//
// Defaults: PostgreSQL (two fresh databases, ECS_TEST_POSTGRES_URL), 1 GiB in objects of 4 MiB
// of random bytes (`--bytes` rounded up to whole objects) (uploaded four at a time with governance headers), 100,000 events. The
// chain is filled before the source starts, by the database itself from the ledger's own
// templates (bench/server-fill.ts; on the embedded database, bench/bulk-chain.ts): valid
// hashes, so the import's evidence gate verifies it. The tenant's creation, its bucket and
// the object puts then continue that chain through the server.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import { openDatabase } from '../lib/db/database';
import { governance } from '../testkit/governance';
import { adminHeaders, startServerProcess } from '../testkit/spawn-server';
import type { StartedServer } from '../testkit/spawn-server';
import { makeTempDir } from '../testkit/temp-dir';
import { createPostgresDatabase } from '../testkit/test-database';
import { bulkFill } from './bulk-chain';
import { serverFill } from './server-fill';
import { checkBackends, environment } from './support/backends';
import { optionText, positiveIntegerOption } from './support/options';
import { sampleProcessTree } from './support/process-tree-memory';
import type { TreeMemorySampler } from './support/process-tree-memory';
import { fmt, mb, now, table } from './support/report';
import { registerCleanup, runCleanup, runMain } from './support/run-main';
import { workloadAdmission } from './support/workload-admission';

const run = promisify(execFile);
const OBJECT_BYTES = 4 * 1024 * 1024;
const UPLOADS_AT_ONCE = 4;
const TENANT = 'bench-migration';
const BUCKET = 'bench-migration-objects';
const EXPORTS = '/v1/migrations/exports';
const IMPORTS = '/v1/migrations/imports';
const RAISED_LIMITS = { RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000', LOG_LEVEL: 'warn' };

const backendOption = optionText('backend') ?? 'postgresql';
if (!['postgresql', 'embedded'].includes(backendOption)) throw new Error('--backend takes postgresql or embedded');
const onPostgres = backendOption === 'postgresql';

interface Deployment {
  name: string;
  server: StartedServer;
  token: string;
  memory: TreeMemorySampler;
  /** Kills the server, then drops its database (registered as a cleanup until it has run). */
  teardown: () => Promise<void>;
}

interface Size {
  bytes: number;
  events: number;
}

interface Phase {
  phase: string;
  /** Export, download or import: what the ratio to tar counts. */
  moves: boolean;
  seconds: number;
  /** Sum of the process tree's VmRSS when the step started, and its highest during the step. */
  sourceBefore: number;
  sourcePeak: number;
  targetBefore: number;
  targetPeak: number;
  note: string;
}

interface TarTimes {
  create: number;
  extract: number;
  archiveBytes: number;
}

interface Result {
  size: Size;
  objects: number;
  chainEvents: number;
  phases: Phase[];
  /** The tar baseline before the export and after the activation. */
  tar: TarTimes[];
  peaks: { source: number; target: number; sourceProcesses: number; targetProcesses: number };
}

async function call(deployment: Deployment, method: 'GET' | 'POST' | 'PUT', urlPath: string, body?: unknown) {
  const response = await request(`${deployment.server.origin}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${deployment.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const text = await response.body.text();
  const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  if (response.statusCode >= 300) throw new Error(`${method} ${urlPath}: ${response.statusCode} ${text.slice(0, 2000)}`);
  return json;
}

/** A fresh database (PostgreSQL) or DATA_DIR (embedded), the chain filled, then the server started on it. */
async function deploy(name: string, work: string, fillEvents: number): Promise<Deployment> {
  const dataDir = path.join(work, name);
  await mkdir(dataDir, { recursive: true });
  let databaseUrl: string | undefined;
  let server: StartedServer | undefined;
  let drop: (() => Promise<void>) | undefined;
  const teardown = async () => {
    await server?.stop().catch(() => server?.kill());
    await drop?.();
  };
  registerCleanup(teardown);
  if (onPostgres) {
    const created = await createPostgresDatabase();
    databaseUrl = created.databaseUrl;
    drop = created.drop;
  }
  if (fillEvents > 0) {
    const db = await openDatabase({ dataDir, databaseUrl });
    try {
      await db.migrate();
      const started = now();
      const progress = (done: number) => {
        if (done === fillEvents) console.log(`  ${name}: chain filled with ${fmt(done)} events in ${fmt((now() - started) / 1000, 1)} s`);
      };
      if (onPostgres) {
        await serverFill(db, TENANT, fillEvents, progress);
        // The statistics autovacuum would gather within a minute or two of such a fill: without
        // them PostgreSQL plans the export's page reads as if the tables were empty.
        await db.prisma.$executeRawUnsafe('ANALYZE audit_evidence_events, audit_evidence_artifacts');
      } else await bulkFill(db, TENANT, fillEvents, (n) => workloadAdmission(TENANT, n), progress);
    } finally {
      await db.close();
    }
  }
  server = await startServerProcess({
    env: { DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), PROVIDER_ID: `provider-${name}`, ...RAISED_LIMITS },
    timeoutMs: 120_000,
  });
  const token = (await adminHeaders(dataDir)).authorization!.slice('Bearer '.length);
  return { name, server, token, memory: sampleProcessTree(server.process.pid!), teardown };
}

/** The tenant, its bucket, and `count` objects of random bytes, each also written under `scratch` for tar. */
async function fillSource(source: Deployment, count: number, scratch: string): Promise<void> {
  await call(source, 'POST', '/v1/tenants', {
    id: TENANT,
    authority_binding: 'auth-dev-001',
    jurisdiction: 'DE',
    policy_baseline: 'ecs-baseline-v1',
  });
  await call(source, 'PUT', `/v1/storage/${BUCKET}`, { tenant_id: TENANT, jurisdiction: 'DE', versioning: true });
  await mkdir(scratch, { recursive: true });
  let next = 0;
  const uploader = async () => {
    for (let n = next++; n < count; n = next++) {
      const key = `object-${String(n).padStart(5, '0')}.bin`;
      const body = randomBytes(OBJECT_BYTES);
      await writeFile(path.join(scratch, key), body);
      const response = await request(`${source.server.origin}/v1/storage/${BUCKET}/objects/${key}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${source.token}`, ...governance(body, { 'content-type': 'application/octet-stream' }) },
        body,
      });
      const text = await response.body.text();
      if (response.statusCode !== 201) throw new Error(`PUT ${key}: ${response.statusCode} ${text.slice(0, 1000)}`);
    }
  };
  await Promise.all(Array.from({ length: UPLOADS_AT_ONCE }, uploader));
}

async function exportAndDownload(source: Deployment, file: string): Promise<{ job: Record<string, unknown>; downloadSeconds: number }> {
  const requested = await call(source, 'POST', EXPORTS, { tenant_id: TENANT, scenario: 'full' });
  let job: Record<string, unknown>;
  for (;;) {
    job = await call(source, 'GET', `${EXPORTS}/${String(requested.id)}`);
    if (job.state === 'completed') break;
    if (job.state === 'failed') throw new Error(`export failed: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const response = await request(`${source.server.origin}${EXPORTS}/${String(requested.id)}/package`, {
    headers: { authorization: `Bearer ${source.token}` },
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  if (response.statusCode !== 200) throw new Error(`package download: ${response.statusCode} ${await response.body.text()}`);
  const started = now();
  await pipeline(response.body, createWriteStream(file));
  return { job, downloadSeconds: (now() - started) / 1000 };
}

/** Uploads the package; resolves with the report and when (`Date.now()`) the last byte was handed over. */
async function importPackage(target: Deployment, source: Deployment, file: string) {
  const jwksUrl = `${source.server.origin}/.well-known/jwks.json`;
  const body = createReadStream(file);
  let uploadedAt = NaN;
  body.once('end', () => (uploadedAt = Date.now()));
  const response = await request(`${target.server.origin}${IMPORTS}?source_jwks_url=${encodeURIComponent(jwksUrl)}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${target.token}`,
      'content-type': 'application/gzip',
      'content-length': String((await stat(file)).size),
    },
    body,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const text = await response.body.text();
  if (response.statusCode !== 201) throw new Error(`import: ${response.statusCode} ${text.slice(0, 4000)}`);
  return { report: JSON.parse(text) as Record<string, unknown>, uploadedAt };
}

async function tarBaseline(scratch: string, work: string): Promise<TarTimes> {
  const archive = path.join(work, 'baseline.tar.gz');
  const extracted = path.join(work, 'baseline-extracted');
  await mkdir(extracted);
  let started = now();
  await run('tar', ['-czf', archive, '-C', scratch, '.']);
  const create = (now() - started) / 1000;
  started = now();
  await run('tar', ['-xzf', archive, '-C', extracted]);
  const extract = (now() - started) / 1000;
  const archiveBytes = (await stat(archive)).size;
  console.log(`  tar -czf ${fmt(create, 1)} s (${mb(archiveBytes)}), tar -xzf ${fmt(extract, 1)} s`);
  await rm(extracted, { recursive: true, force: true });
  await rm(archive, { force: true });
  return { create, extract, archiveBytes };
}

async function migrate(size: Size): Promise<Result> {
  const objects = Math.max(1, Math.ceil(size.bytes / OBJECT_BYTES));
  // tenant.create, bucket.create and one object.put each continue the chain.
  const fillEvents = Math.max(0, size.events - objects - 2);
  console.log(`\n## ${mb(objects * OBJECT_BYTES)} in ${objects} objects, ${fmt(size.events)} events (${fmt(fillEvents)} filled)`);
  const dir = await makeTempDir('ecs-bench-migration-');
  const removeDir = () => dir.remove();
  registerCleanup(removeDir);
  try {
    const [source, target] = [await deploy('source', dir.path, fillEvents), await deploy('target', dir.path, 0)];
    try {
      const scratch = path.join(dir.path, 'objects');
      const phases: Phase[] = [];
      const phase = async <T>(name: string, moves: boolean, work: () => Promise<T>, note: (result: T) => string) => {
        const [sourceBefore, targetBefore] = [source.memory.current(), target.memory.current()];
        source.memory.mark();
        target.memory.mark();
        const started = now();
        const result = await work();
        const seconds = (now() - started) / 1000;
        const [sourcePeak, targetPeak] = [source.memory.mark(), target.memory.mark()];
        const row = { phase: name, moves, seconds, sourceBefore, sourcePeak, targetBefore, targetPeak, note: note(result) };
        console.log(
          `  ${name}: ${fmt(seconds, 1)} s, RSS source ${mb(sourceBefore)} -> peak ${mb(sourcePeak)}, target ${mb(targetBefore)} -> peak ${mb(targetPeak)}; ${row.note}`,
        );
        phases.push(row);
        return { result, seconds };
      };
      await phase(
        'fill: tenant, bucket, object PUTs (setup)',
        false,
        () => fillSource(source, objects, scratch),
        () => `${objects} x ${mb(OBJECT_BYTES)}, ${UPLOADS_AT_ONCE} at once`,
      );
      const tar = [await tarBaseline(scratch, dir.path)];
      const file = path.join(dir.path, 'package.tar.gz');
      await phase(
        'export + download',
        true,
        () => exportAndDownload(source, file),
        ({ job, downloadSeconds }) =>
          `${mb(Number(job.package_size))} package, ${String(job.object_versions)} object versions; download ${fmt(downloadSeconds, 1)} s`,
      );
      const importStarted = Date.now();
      const imported = await phase(
        'import (upload, gates, materialisation)',
        true,
        () => importPackage(target, source, file),
        ({ report, uploadedAt }) => {
          const validated = Date.parse(String(report.validated_at));
          const done = Date.parse(String(report.imported_at));
          const seconds = (from: number, to: number) => fmt((to - from) / 1000, 1);
          return `upload ${seconds(importStarted, uploadedAt)} s, gates ${seconds(uploadedAt, validated)} s, materialisation ${seconds(validated, done)} s`;
        },
      );
      const importId = String(imported.result.report.import_id);
      await phase(
        'activation',
        false,
        () => call(target, 'POST', `${IMPORTS}/${importId}/activate`),
        (answer) => `status ${String(answer.status)}`,
      );
      await rm(file, { force: true });
      tar.push(await tarBaseline(scratch, dir.path));
      return {
        size,
        objects,
        chainEvents: Number(imported.result.report.source_head_sequence),
        phases,
        tar,
        peaks: {
          source: source.memory.peak(),
          target: target.memory.peak(),
          sourceProcesses: source.memory.processes(),
          targetProcesses: target.memory.processes(),
        },
      };
    } finally {
      for (const deployment of [source, target]) {
        deployment.memory.stop();
        await runCleanup(deployment.teardown, deployment.name);
      }
    }
  } finally {
    await runCleanup(removeDir, 'the data directories');
  }
}

function report(results: Result[]): void {
  const label = (result: Result) => `${mb(result.objects * OBJECT_BYTES)}, ${fmt(result.chainEvents)} ev`;
  console.log('\n### tenant-migration\n');
  console.log(
    table(
      ['size', 'step', 'wall s', 'RSS source before -> peak', 'RSS target before -> peak', 'note'],
      results.flatMap((result) => [
        ...result.phases.map((row) => [
          label(result),
          row.phase,
          fmt(row.seconds, 1),
          `${mb(row.sourceBefore)} -> ${mb(row.sourcePeak)}`,
          `${mb(row.targetBefore)} -> ${mb(row.targetPeak)}`,
          row.note,
        ]),
        ...result.tar.map((tar, n) => [
          label(result),
          `tar -czf + tar -xzf (${n === 0 ? 'before the export' : 'after the activation'})`,
          fmt(tar.create + tar.extract, 1),
          '-',
          '-',
          `${fmt(tar.create, 1)} s + ${fmt(tar.extract, 1)} s, ${mb(tar.archiveBytes)} archive`,
        ]),
      ]),
    ),
  );
  console.log('');
  const steps = (result: Result) => result.phases.filter((row) => row.phase !== result.phases[0]!.phase);
  console.log(
    table(
      [
        'size',
        'export+download+import s',
        'tar -czf + -xzf s (before / after)',
        'ratio to the mean (goal <= 3)',
        'peak RSS source (migration / whole run)',
        'peak RSS target (migration / whole run)',
      ],
      results.map((result) => {
        const moved = result.phases.filter((row) => row.moves).reduce((sum, row) => sum + row.seconds, 0);
        const tars = result.tar.map((tar) => tar.create + tar.extract);
        const tar = tars.reduce((sum, seconds) => sum + seconds, 0) / tars.length;
        const peakOf = (key: 'sourcePeak' | 'targetPeak') => Math.max(...steps(result).map((row) => row[key]));
        return [
          label(result),
          fmt(moved, 1),
          tars.map((seconds) => fmt(seconds, 1)).join(' / '),
          `${fmt(moved / tar, 2)}x`,
          `${mb(peakOf('sourcePeak'))} / ${mb(result.peaks.source)}`,
          `${mb(peakOf('targetPeak'))} / ${mb(result.peaks.target)}`,
        ];
      }),
    ),
  );
  console.log(
    '\nRSS: the sum of VmRSS of each server\'s process tree, sampled every 100 ms; "migration": export, download, import and activation; "whole run": from the start of the server, with the largest VmHWM of one of its processes.',
  );
  for (const result of results)
    console.log(`- ${label(result)}: up to ${result.peaks.sourceProcesses} / ${result.peaks.targetProcesses} processes (source / target)`);
}

runMain(async () => {
  if (onPostgres) await checkBackends(['postgresql']);
  const full = { bytes: positiveIntegerOption('bytes', 1024 ** 3), events: positiveIntegerOption('events', 100_000) };
  const sizes = process.argv.includes('--no-small')
    ? [full]
    : [{ bytes: Math.ceil(full.bytes / 8), events: Math.ceil(full.events / 8) }, full];
  console.log(`# tenant-migration: ${environment()}, ${backendOption}`);
  const results: Result[] = [];
  for (const size of sizes) results.push(await migrate(size));
  report(results);
});
