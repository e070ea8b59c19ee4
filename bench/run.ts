// Runs the benchmarks one after the other, each in its own process.
//
//   npm run bench                                   # all
//   npm run bench -- ledger-append                  # one (or several) by name
//   npm run bench -- verify-chain --backend=pglite  # options are passed on
//
// Options are passed on to each benchmark (see the header of its file and docs/benchmarks.md):
// all take --backend=pglite|postgresql; ledger-append --seconds=N --rounds=N --baseline-dir=DIR;
// governed-actions --seconds=N --rounds=N --concurrency=N --tenants=N; verify-chain --events=N
// --pglite-events=N; export-bundle --events=N --pglite-events=N, or --synthetic [--events=N]
// [--events-per-record=K] (the verifier alone, on a bundle written straight to disk); s3
// --seconds=N --connections=N (S3 endpoint next to the JSON storage route); gateway --seconds=N
// --rounds=N --connections=N --hive-dedupe (our gateway against Hive Gateway and a direct
// subgraph call; always on PostgreSQL; --only=path/operation,... --cpu-profile=DIR); gateway-baseline
// --baseline=DIR --seconds=N --rounds=N --connections=N --operations=... (`npm start` of this
// checkout against another checkout's, on PostgreSQL); tenant-migration --backend=postgresql|embedded --bytes=N
// --events=N --no-small (two deployments as processes, a tenant moved between them). PostgreSQL:
// ECS_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) must allow CREATE
// DATABASE.
import { spawn } from 'node:child_process';
import path from 'node:path';

const BENCHMARKS: Record<string, string> = {
  'ledger-append': 'ledger-append.ts',
  'verify-chain': 'verify-chain.ts',
  'rest-overhead': 'rest-overhead.ts',
  'subscription-latency': 'subscription-latency.ts',
  'storage-stream': 'storage-stream.ts',
  s3: 's3.ts',
  'export-bundle': 'export-bundle.ts',
  'governed-actions': 'governed-actions.ts',
  gateway: 'gateway.ts',
  'gateway-baseline': 'gateway-baseline.ts',
  'tracing-cost': 'tracing-cost.ts',
  'tenant-migration': 'tenant-migration.ts',
};

function usage(): string {
  return `usage: npm run bench -- [${Object.keys(BENCHMARKS).join(' | ')} ...] [--backend=pglite|postgresql] [options of the benchmark]`;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage());
    return 0;
  }
  const names = args.filter((arg) => !arg.startsWith('--'));
  const options = args.filter((arg) => arg.startsWith('--'));
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}\n${usage()}`);
    return 2;
  }
  const selected = names.length ? names : Object.keys(BENCHMARKS);
  let running: ReturnType<typeof spawn> | undefined;
  let interrupted = false;
  // Ctrl-C reaches the children directly (same process group); pass on a SIGTERM. Either
  // way, no further benchmark starts.
  process.on('SIGINT', () => {
    interrupted = true;
  });
  process.on('SIGTERM', () => {
    interrupted = true;
    running?.kill('SIGTERM');
  });

  const failed: string[] = [];
  for (const name of selected) {
    const file = path.join(__dirname, BENCHMARKS[name]!);
    const started = Date.now();
    console.log(`\n=============== ${name} ===============`);
    running = spawn(process.execPath, [...process.execArgv, file, ...options], { stdio: 'inherit' });
    const child = running;
    const code = await new Promise<number>((resolve) => child.once('exit', (exitCode, signal) => resolve(signal ? 1 : (exitCode ?? 1))));
    running = undefined;
    console.log(`\n[bench] ${name}: exit code ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (code !== 0) failed.push(name);
    if (interrupted || code === 130 || code === 143) break;
  }
  if (failed.length) console.error(`[bench] FAILED: ${failed.join(', ')}`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
