// The gateway of this checkout against the gateway of another checkout (a worktree of an older
// `main`), in one run: each is `npm start` (the whole stack in one server process, as a user
// runs it) on a fresh PostgreSQL database of its own, seeded with the same tenant (3 workloads,
// one bucket) through its REST adapter. autocannon, in a worker thread of this process, sends
// the same requests with a tenant administrator's token to one server at a time, the servers
// alternating within every round, after a warm-up of each.
//
//   git worktree add /tmp/ecs-base <commit> && (cd /tmp/ecs-base && npm ci && node scripts/generate.js)
//   npm run bench -- gateway-baseline --baseline=/tmp/ecs-base [--seconds=8] [--rounds=3]
//     [--connections=20] [--operations=one-plane,two-plane,three-plane,REST]
//
// Each answer is checked before the rounds (data present, no `errors`, the workloads and the
// bucket there); autocannon compares every answer with it when it does not change between
// calls. A non-2xx, connection error, timeout or mismatch fails the run. Rate limits are raised
// and the per-principal slots widened on both so that none answers 429. Both databases are dropped at the end.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Agent } from 'undici';
import { devIssuerFile, loadDevIssuer } from '../lib/auth/dev-issuer';
import { startServerProcess } from '../testkit/spawn-server';
import type { StartedServer } from '../testkit/spawn-server';
import { makeTempDir } from '../testkit/temp-dir';
import { createPostgresDatabase } from '../testkit/test-database';
import { environment } from './support/backends';
import { OPERATIONS, checkedAnswer, gatewayRequest, median, runLoad, seedTenant } from './support/gateway-operations';
import type { LoadResult, Operation, TokenFor } from './support/gateway-operations';
import { optionText, positiveIntegerOption } from './support/options';
import { fmt, table } from './support/report';
import { registerCleanup, runMain } from './support/run-main';

const SECONDS = positiveIntegerOption('seconds', 8);
const ROUNDS = positiveIntegerOption('rounds', 3);
const CONNECTIONS = positiveIntegerOption('connections', 20);
const WARM_UP_SECONDS = 2;

/** One server under test: a checkout's `npm start` on a database of its own. */
interface Contender {
  label: 'this checkout' | 'baseline';
  root: string;
  server: StartedServer;
  token: string;
}

interface Cell {
  contender: Contender;
  operation: Operation;
  expectBody?: string;
  rounds: LoadResult[];
  warmUp?: LoadResult;
}

function chosenOperations(): Operation[] {
  const names = optionText('operations')?.split(',').filter(Boolean);
  if (!names) return OPERATIONS;
  const unknown = names.filter((name) => !OPERATIONS.some((operation) => operation.name === name));
  if (unknown.length) throw new Error(`--operations names no operation: ${unknown.join(', ')}`);
  return OPERATIONS.filter((operation) => names.includes(operation.name));
}

/** Starts `root`'s whole stack on a fresh PostgreSQL database and a fresh data directory, and seeds the tenant. */
async function startContender(label: Contender['label'], root: string, agent: Agent): Promise<Contender> {
  const dir = await makeTempDir('ecs-bench-baseline-');
  const database = await createPostgresDatabase();
  let server: StartedServer | undefined;
  // Stopped, its database dropped and its directory removed when the benchmark ends (or fails).
  const cleanup = async () => {
    await server?.stop().catch(() => server?.kill());
    await database.drop();
    await dir.remove();
  };
  registerCleanup(cleanup);
  server = await startServerProcess({
    root,
    env: {
      DATA_DIR: dir.path,
      DATABASE_URL: database.databaseUrl,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '100000000',
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000000',
      // The load generator is one principal on 20 connections: no per-principal slot limit may answer 429.
      IN_FLIGHT_BODIES_PER_PRINCIPAL: '10000',
      EXPENSIVE_OPERATIONS_PER_PRINCIPAL: '1000',
    },
    timeoutMs: 120_000,
  });
  const issuer = await loadDevIssuer(devIssuerFile(dir.path));
  const token: TokenFor = (role, tenantId) =>
    issuer.mint({
      subject: `bench-${role}@${tenantId ?? 'platform'}`,
      roles: [role],
      ...(tenantId ? { tenantId } : {}),
      audience: 'ecs-gateway',
      ttlSeconds: 3600,
    });
  return { label, root, server, token: await seedTenant(server.origin, agent, token) };
}

const run = (cell: Cell, seconds: number) =>
  runLoad(gatewayRequest(cell.contender.server.origin, cell.operation, cell.contender.token), {
    seconds,
    connections: CONNECTIONS,
    expectBody: cell.expectBody,
  });

const failures = (m: LoadResult): number => m.non2xx + m.errors + m.mismatches;

async function main(): Promise<void> {
  const baselineRoot = optionText('baseline');
  if (!baselineRoot) {
    // `npm run bench` runs every benchmark: this one has nothing to compare without a checkout.
    console.log('gateway-baseline: skipped, it needs --baseline=DIR (a checkout, e.g. a git worktree, with its dependencies installed)');
    return;
  }
  const root = path.resolve(baselineRoot);
  if (!existsSync(path.join(root, 'cli', 'start.ts')) || !existsSync(path.join(root, 'node_modules'))) {
    throw new Error(`${root} is not a checkout with cli/start.ts and node_modules`);
  }
  const operations = chosenOperations();
  console.log(`# gateway-baseline: ${environment()}`);
  console.log(
    `${CONNECTIONS} keep-alive connections (autocannon, one worker thread), ${ROUNDS} rounds of ${SECONDS} s per server and operation (+ ${WARM_UP_SECONDS} s warm-up each), servers alternating; baseline ${root}`,
  );
  const agent = new Agent({ connections: 4, keepAliveTimeout: 4000 });
  const contenders = [
    await startContender('this checkout', path.resolve(__dirname, '..'), agent),
    await startContender('baseline', root, agent),
  ];
  const cells: Cell[] = operations.flatMap((operation) => contenders.map((contender) => ({ contender, operation, rounds: [] })));
  for (const cell of cells) {
    const request = () => gatewayRequest(cell.contender.server.origin, cell.operation, cell.contender.token);
    cell.expectBody = await checkedAnswer(agent, cell.operation, request, cell.contender.label);
  }
  await agent.close();
  for (const cell of cells) cell.warmUp = await run(cell, WARM_UP_SECONDS);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const operation of operations) {
      // Which server goes first alternates between rounds.
      const pair = cells.filter((cell) => cell.operation === operation);
      for (const cell of round % 2 ? pair.reverse() : pair) cell.rounds.push(await run(cell, SECONDS));
    }
    console.log(
      `  round ${round + 1}: ${cells.map((c) => `${c.contender.label}/${c.operation.name} ${fmt(c.rounds[round]!.rps)}/s`).join(', ')}`,
    );
  }
  const failed = cells.filter((cell) => [...cell.rounds, cell.warmUp!].some((m) => failures(m) > 0));

  console.log('\n### this checkout against the baseline\n');
  console.log(
    table(
      [
        'operation',
        'server',
        'requests',
        'req/s (median)',
        'rounds min-max',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'errors',
        'mismatches',
        'checked',
      ],
      cells.map((cell) => {
        const all = [...cell.rounds, cell.warmUp!];
        const sum = (pick: (m: LoadResult) => number, of = all) => of.reduce((total, m) => total + pick(m), 0);
        const rps = cell.rounds.map((m) => m.rps);
        return [
          cell.operation.name,
          cell.contender.label,
          fmt(sum((m) => m.requests, cell.rounds)),
          fmt(median(rps)),
          `${fmt(Math.min(...rps))}-${fmt(Math.max(...rps))}`,
          fmt(median(cell.rounds.map((m) => m.p50)), 1),
          fmt(median(cell.rounds.map((m) => m.p99)), 1),
          fmt(sum((m) => m.non2xx)),
          fmt(sum((m) => m.errors)),
          fmt(sum((m) => m.mismatches)),
          cell.expectBody === undefined ? 'status only' : 'every body',
        ];
      }),
    ),
  );
  console.log('\n| operation | this checkout / baseline, req/s (median of rounds) | per round |\n|---|--:|---|');
  for (const operation of operations) {
    const [ours, base] = contenders.map((contender) => cells.find((c) => c.contender === contender && c.operation === operation)!);
    const perRound = ours!.rounds.map((m, i) => `${fmt(m.rps / base!.rounds[i]!.rps, 2)}x`).join(' / ');
    console.log(
      `| ${operation.name} | ${fmt(median(ours!.rounds.map((m) => m.rps)) / median(base!.rounds.map((m) => m.rps)), 2)}x | ${perRound} |`,
    );
  }
  if (failed.length) {
    const statuses = (cell: Cell) => JSON.stringify([...cell.rounds, cell.warmUp!].map((m) => m.statuses));
    throw new Error(
      `failed requests in ${failed.map((cell) => `${cell.contender.label}/${cell.operation.name} ${statuses(cell)}`).join(', ')}`,
    );
  }
}

runMain(main);
