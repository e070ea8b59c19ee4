// What the gateway's federation hop costs, and how it compares with Hive Gateway, the peer a
// user would pick. The whole stack runs in this process on a fresh PostgreSQL database
// (`withStack`); autocannon (in a worker thread, so the load generator does not share the
// servers' event loop) sends requests over `--connections` keep-alive connections through
// these paths:
//   - ecs-gateway: our gateway, `POST /graphql` with a tenant-admin bearer token, and the REST
//     adapter's `GET /v1/tenants/{id}`;
//   - hive-native, hive-undici: Hive Gateway (`createGatewayRuntime` on `node:http`, also in
//     this process) over the same supergraph and the same running planes, with a plugin that
//     does our gateway's authentication work per request: verifies the bearer token with our
//     verifier and signs the forwarded identity for each plane it calls (`IdentityTokens`,
//     cached per caller and plane, as ours). It reaches the planes over mTLS with its own fetch
//     (Node's https) given an https.Agent with the client certificate (native), or with our
//     fetch over an undici pool with the client certificate, as our gateway has it (undici).
//     REST has no Hive counterpart;
//   - subgraph: straight to the control plane over mTLS with a signed forwarded identity (the
//     one-plane query only): the floor under any gateway.
// Operations: one-plane `tenant { id status jurisdiction }` (control), two-plane adds
// `workloads { id status }` (execution), three-plane adds `buckets { name jurisdiction }` (data).
//
//   npm run bench -- gateway [--seconds=8] [--rounds=2] [--connections=20] [--hive-dedupe]
//     [--only=ecs-gateway/one-plane,subgraph/one-plane] [--cpu-profile=DIR]
//
// `--only` measures the named (path/operation) cells only; `--cpu-profile` writes a V8 CPU profile
// of this process's main thread (the gateway and the planes) over each cell's rounds to
// DIR/<path>-<operation>.cpuprofile.
// `--hive-dedupe` keeps Hive's in-flight deduplication of identical subgraph calls, off by
// default: every client sends the same query as the same caller, so it would merge calls that
// real traffic does not repeat. `--seconds` is at most 50: the direct path's forwarded identity
// lives 60 s.
//
// Always on PostgreSQL (ECS_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test;
// `--backend` is ignored). Each round runs every (path, operation) for `--seconds`, in an order
// that rotates between rounds, after a warm-up of each; the reported figures are the median of
// the rounds. Before measuring, each (path, operation) is called twice and its answer checked
// (data present, no `errors`, the tenant's workloads and bucket there); when both answers are
// equal, autocannon compares every answer with it (a different one is a mismatch). Any non-2xx,
// connection error, timeout or mismatch, in the warm-up or a round, fails the run. The planes
// count the requests they receive, printed per request answered ("plane calls/req").
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import http from 'node:http';
import https from 'node:https';
import type { JWK } from 'jose';
import { decodeProtectedHeader } from 'jose';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import { Agent } from 'undici';
import { closeServer, listen } from '../app/close-server';
import { identifyCaller } from '../gateway/authenticate';
import type { AuthenticatorOptions } from '../gateway/authenticate';
import { SUPERGRAPH_FILE } from '../gateway/supergraph-file';
import type { Caller } from '../lib/auth/caller';
import { DEV_ISSUER } from '../lib/auth/dev-issuer';
import { IDENTITY_HEADER, IDENTITY_TTL_SECONDS, IdentityTokens } from '../lib/auth/identity-token';
import { createTokenVerifier } from '../lib/auth/token-verifier';
import type { TokenVerifier } from '../lib/auth/token-verifier';
import { PLANES } from '../lib/config/config';
import type { Plane } from '../lib/config/config';
import { createMtlsAgent, fetchWithAgent } from '../lib/tls/mtls';
import type { TlsMaterial } from '../lib/tls/tls-material';
import { testConfig } from '../testkit/test-config';
import { checkBackends, environment, postgresVersion } from './support/backends';
import { startProfile } from './support/cpu-profile';
import { OPERATIONS, TENANT, checkedAnswer, gatewayRequest, median, runLoad, seedTenant, send } from './support/gateway-operations';
import type { HttpRequest, LoadResult, Operation, OperationName } from './support/gateway-operations';
import { optionText, positiveIntegerOption } from './support/options';
import { fmt, table } from './support/report';
import { registerCleanup, runCleanup, runMain } from './support/run-main';
import { withStack } from './support/stack';
import type { BenchStack } from './support/stack';

const SECONDS = positiveIntegerOption('seconds', 8);
const ROUNDS = positiveIntegerOption('rounds', 2);
const CONNECTIONS = positiveIntegerOption('connections', 20);
/** Keep Hive's default in-flight deduplication of identical subgraph calls. */
const HIVE_DEDUPE = process.argv.includes('--hive-dedupe');
const ONLY = optionText('only')?.split(',').filter(Boolean);
const PROFILE_DIR = optionText('cpu-profile');
const WARM_UP_SECONDS = 2;

/**
 * How a Hive Gateway reaches the planes over mTLS: `native`, Hive's own fetch (Node's https,
 * through @whatwg-node/node-fetch) given an https.Agent with the client certificate; `undici`,
 * our fetch over an undici pool with the client certificate, as our gateway has it.
 */
type HiveFetch = 'native' | 'undici';
const HIVE_FETCHES: HiveFetch[] = ['native', 'undici'];
type PathName = 'ecs-gateway' | `hive-${HiveFetch}` | 'subgraph';
const PATHS: PathName[] = ['ecs-gateway', 'hive-native', 'hive-undici', 'subgraph'];

/** One autocannon run, with the requests the planes received during it (any plane, from anyone). */
interface Measurement extends LoadResult {
  subgraphCalls: number;
}

/** One (path, operation): how to build its request, its checked answer, its measurements. */
interface Cell {
  path: PathName;
  operation: Operation;
  /** Built anew for each run (the subgraph's identity token expires). */
  build(): Promise<HttpRequest>;
  /** The answer every request must get, when the answer is the same each time. */
  expectBody?: string;
  rounds: Measurement[];
  /** The warm-up run: its failures count, its figures do not. */
  warmUp?: Measurement;
}

/**
 * The gateway's token verifier, built as app/gateway-auth.ts builds it (the test
 * configuration's OIDC settings, which withStack does not change; the development issuer
 * trusted with ES256), with the issuer's public key as the gateway publishes it.
 */
async function gatewayVerifier(base: string, agent: Agent, token: string): Promise<TokenVerifier> {
  const { kid } = decodeProtectedHeader(token);
  const served = JSON.parse(await send(agent, { url: `${base}/.well-known/jwks.json`, method: 'GET', headers: {} })) as { keys: JWK[] };
  const keys = served.keys.filter((key) => key.kid === kid);
  if (keys.length !== 1) throw new Error(`the gateway's JWKS has ${keys.length} key(s) with the dev issuer's kid ${String(kid)}`);
  const { oidc } = testConfig({ dataDir: os.tmpdir() });
  return createTokenVerifier({
    issuers: [{ issuer: DEV_ISSUER, jwks: { keys } }],
    audience: oidc.audience,
    algorithms: [...new Set([...oidc.algorithms, 'ES256'])],
    allowedTypes: oidc.tokenTypes,
    clockSkewSeconds: oidc.clockSkewSeconds,
    maxTokenAgeSeconds: oidc.maxTokenAgeSeconds,
    claims: oidc.claims,
  });
}

/** The committed supergraph with each plane's `join__graph` URL replaced by the running plane's. */
function runningSupergraph(sdl: string, urlOf: (plane: Plane) => string): string {
  const seen = new Set<string>();
  const rewritten = sdl.replace(/@join__graph\(name: "([a-z]+)", url: "[^"]*"\)/g, (_all, name: string) => {
    if (!PLANES.includes(name as Plane)) throw new Error(`supergraph names an unknown plane "${name}"`);
    seen.add(name);
    return `@join__graph(name: "${name}", url: "${urlOf(name as Plane)}")`;
  });
  if (seen.size !== PLANES.length) throw new Error(`supergraph has join__graph URLs for ${[...seen].join(', ')} only`);
  return rewritten;
}

interface HiveOptions {
  supergraph: string;
  tls: TlsMaterial;
  /** Our gateway's authentication of a bearer token (throws when it is refused). */
  authenticate(authorization: string | null): Promise<Caller>;
  identityTokens: IdentityTokens;
}

interface RunningHive {
  url: string;
  close(): Promise<void>;
}

/** A subgraph fetch's options, as Hive's `onFetch` hook sees them (`agent`: for Hive's own fetch). */
interface HiveFetchOptions {
  headers?: Record<string, string>;
  agent?: https.Agent;
  signal?: AbortSignal | null;
}

/** The part of a Hive Gateway plugin used here (`onContextBuilding` from Yoga, `onSubgraphExecute` and `onFetch` from Hive). */
interface HivePlugin {
  onContextBuilding?(payload: { context: { request: Request }; extendContext(extension: { caller: Caller }): void }): Promise<void>;
  onSubgraphExecute?(payload: {
    /** The `join__graph` name: the plane. */
    subgraphName: string;
    executionRequest: { context?: { caller?: Caller }; extensions?: { headers?: Record<string, string> } };
  }): Promise<void>;
  onFetch?(payload: {
    url: string;
    options: HiveFetchOptions;
    setOptions(options: HiveFetchOptions): void;
    context: { caller?: Caller };
  }): Promise<void>;
}

/** The part of `@graphql-hive/gateway` used here, as its own declarations have it. */
interface HiveGatewayModule {
  createGatewayRuntime(config: {
    supergraph: string;
    logging: boolean;
    landingPage: boolean;
    graphiql: boolean;
    /** Options of every subgraph's transport (`'*'`): here, in-flight deduplication. */
    transportEntries: Record<'*', { options: { deduplicateInflightRequests: boolean } }>;
    plugins(): HivePlugin[];
  }): http.RequestListener & { dispose(): Promise<void> | void };
  useCustomFetch(fetch: (url: string, init?: object) => Promise<unknown>): HivePlugin;
}

/**
 * Hive's type declarations reference TypeScript's DOM library (through @whatwg-node/fetch),
 * which would change globals such as `Crypto` and `Headers` for the whole program and break
 * the type checking of lib/: the module is loaded untyped, with the part used declared above.
 */
const hiveGateway = require('@graphql-hive/gateway') as HiveGatewayModule;

/**
 * Our gateway's per-request authentication as a Hive plugin: the caller from the bearer
 * token when the context is built, and the identity signed for the target plane on every
 * subgraph call (as gateway/subgraph-data-source.ts does).
 *
 * The identity goes into the call's `extensions.headers` (as Hive's own usePropagateHeaders
 * does), not into the fetch options of `onFetch`: Hive's in-flight deduplication (on by
 * default) keys a call by URL and body, plus these headers but not those added in `onFetch`,
 * so an identity added there lets two callers asking the same query at once share one
 * answer, fetched with the first one's identity (tried: a tenant-admin of tenant B then reads
 * tenant A).
 */
function ecsIdentityPlugin(options: HiveOptions): HivePlugin {
  return {
    async onContextBuilding({ context, extendContext }) {
      try {
        extendContext({ caller: await options.authenticate(context.request.headers.get('authorization')) });
      } catch (error) {
        throw new GraphQLError(error instanceof Error ? error.message : 'unauthenticated', { extensions: { http: { status: 401 } } });
      }
    },
    async onSubgraphExecute({ subgraphName, executionRequest }) {
      // No caller (a call outside a request): no identity, and the plane refuses the call.
      const caller = executionRequest.context?.caller;
      if (!caller) return;
      if (!PLANES.includes(subgraphName as Plane)) throw new Error(`Hive calls an unknown subgraph "${subgraphName}"`);
      const extensions = (executionRequest.extensions ??= {});
      extensions.headers = { ...extensions.headers, [IDENTITY_HEADER]: await options.identityTokens.sign(caller, subgraphName as Plane) };
    },
  };
}

const unlimited = new WeakSet<AbortSignal>();

/** No MaxListenersExceededWarning for `signal` (`events.getMaxListeners` refuses an AbortSignal on Node 20). */
function unlimitListeners(signal: AbortSignal): void {
  if (unlimited.has(signal)) return;
  setMaxListeners(0, signal);
  unlimited.add(signal);
}

type Fetch = (url: string, init?: { signal?: AbortSignal | null }) => Promise<unknown>;

/**
 * `fetch` with the caller's abort signal relayed through a signal of its own, unhooked once the
 * answer's headers are in. Hive hands every subgraph fetch the same long-lived signal (its
 * executor's dispose signal); undici's fetch hangs a listener on it that only garbage
 * collection removes (thousands pile up, with Node's MaxListenersExceededWarning), a cost of
 * this wrapper's fetch, not of Hive.
 */
function signalScopedFetch(fetch: Fetch): Fetch {
  return async (url, init) => {
    const outer = init?.signal;
    if (!outer) return fetch(url, init);
    const inner = new AbortController();
    const abort = () => inner.abort(outer.reason);
    // One listener per fetch in flight, all on the same signal: more than Node's warning limit of 10.
    unlimitListeners(outer);
    if (outer.aborted) abort();
    else outer.addEventListener('abort', abort, { once: true });
    try {
      return await fetch(url, { ...init, signal: inner.signal });
    } finally {
      outer.removeEventListener('abort', abort);
    }
  };
}

/** The plugin that gives Hive's subgraph fetches the client certificate, and how to close its pool. */
function hiveTransport(tls: TlsMaterial, fetch: HiveFetch): { plugin: HivePlugin; close(): Promise<void> } {
  if (fetch === 'native') {
    const agent = new https.Agent({ keepAlive: true, ca: tls.ca, cert: tls.clientCert, key: tls.clientKey, minVersion: 'TLSv1.2' });
    return {
      plugin: {
        async onFetch({ options, setOptions }) {
          // Node's https adds a listener per request in flight to Hive's signal: more than its warning limit of 10.
          if (options.signal) unlimitListeners(options.signal);
          setOptions({ ...options, agent });
        },
      },
      close: async () => agent.destroy(),
    };
  }
  const agent = createMtlsAgent(tls);
  const mtlsFetch = signalScopedFetch(fetchWithAgent(agent));
  return { plugin: hiveGateway.useCustomFetch((url, init) => mtlsFetch(url, init)), close: () => agent.close() };
}

/** Hive Gateway on 127.0.0.1 (ephemeral port), calling the planes over its own mTLS pool. */
async function startHive(options: HiveOptions, fetch: HiveFetch): Promise<RunningHive> {
  const transport = hiveTransport(options.tls, fetch);
  const runtime = hiveGateway.createGatewayRuntime({
    supergraph: options.supergraph,
    logging: false,
    landingPage: false,
    graphiql: false,
    // Hive's HTTP executor shares one subgraph call between identical queries in flight (by
    // default). The clients here all send the same query as the same caller, which real
    // traffic rarely does, and neither @apollo/gateway nor the direct path does that: off,
    // unless `--hive-dedupe` asks for Hive's default.
    transportEntries: { '*': { options: { deduplicateInflightRequests: HIVE_DEDUPE } } },
    plugins: () => [transport.plugin, ecsIdentityPlugin(options)],
  });
  const server = http.createServer(runtime);
  let port: number;
  try {
    port = await listen(server, 0, '127.0.0.1');
  } catch (error) {
    await runtime.dispose();
    await transport.close();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: async () => {
      await closeServer(server, 5000);
      await runtime.dispose();
      await transport.close();
    },
  };
}

/** Requests received by the planes so far (`countSubgraphCalls`). */
const subgraphCalls = { total: 0 };

/** Counts every request any plane receives, to show how many subgraph calls one request makes. */
function countSubgraphCalls(stack: BenchStack['stack']): void {
  for (const plane of PLANES) {
    stack.subgraphs[plane].server.on('request', () => {
      subgraphCalls.total += 1;
    });
  }
}

/** Runs autocannon once (one worker thread), counting the planes' requests meanwhile. */
async function fire(spec: HttpRequest, seconds: number, expectBody: string | undefined): Promise<Measurement> {
  const callsBefore = subgraphCalls.total;
  const result = await runLoad(spec, { seconds, connections: CONNECTIONS, expectBody });
  return { ...result, subgraphCalls: subgraphCalls.total - callsBefore };
}

const failed = (m: Measurement): number => m.non2xx + m.errors + m.mismatches;

/** One measured run of a cell, profiled (main thread) into `PROFILE_DIR` when asked. */
async function measureRound(cell: Cell): Promise<Measurement> {
  const request = await cell.build();
  if (PROFILE_DIR === undefined) return fire(request, SECONDS, cell.expectBody);
  const profile = await startProfile();
  const measured = await fire(request, SECONDS, cell.expectBody);
  await mkdir(PROFILE_DIR, { recursive: true });
  const file = path.join(PROFILE_DIR, `${cell.path}-${cell.operation.name}-${cell.rounds.length + 1}.cpuprofile`);
  await writeFile(file, await profile.stop());
  return measured;
}

/** Warm-up of every cell, then `ROUNDS` rounds of all cells, the order rotating. */
async function measureCells(cells: Cell[]): Promise<void> {
  for (const cell of cells) cell.warmUp = await fire(await cell.build(), WARM_UP_SECONDS, cell.expectBody);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let i = 0; i < cells.length; i += 1) {
      const cell = cells[(i + round) % cells.length]!;
      cell.rounds.push(await measureRound(cell));
    }
    console.log(
      `  round ${round + 1}: ${cells.map((cell) => `${cell.path}/${cell.operation.name} ${fmt(cell.rounds[round]!.rps)}/s`).join(', ')}`,
    );
  }
}

/** The cells of every path and operation, against the running stack and the two Hive Gateways. */
async function buildCells(stack: BenchStack['stack'], hiveUrls: Record<HiveFetch, string>, token: string, caller: Caller): Promise<Cell[]> {
  const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const body = (operation: Operation) => JSON.stringify({ query: operation.query, variables: { id: TENANT } });
  const { tls, keys } = stack.services;
  const cells: Cell[] = [];
  const add = (path: PathName, operation: Operation, build: () => Promise<HttpRequest>) =>
    cells.push({ path, operation, build, rounds: [] });
  for (const operation of OPERATIONS) {
    add('ecs-gateway', operation, async () => gatewayRequest(stack.gateway.url, operation, token));
    if (operation.query) {
      for (const fetch of HIVE_FETCHES) {
        add(`hive-${fetch}`, operation, async () => ({ url: hiveUrls[fetch], method: 'POST', headers: bearer, body: body(operation) }));
      }
    }
  }
  const onePlane = OPERATIONS[0]!;
  // A fresh signer per run: its identity lives IDENTITY_TTL_SECONDS from now (the shared
  // signer would hand out a cached one up to half as old).
  add('subgraph', onePlane, async () => ({
    url: stack.subgraphs.control.url,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [IDENTITY_HEADER]: await new IdentityTokens(keys.derivedSecret('identity')).sign(caller, 'control'),
    },
    body: body(onePlane),
    tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey },
  }));
  if (!ONLY) return cells;
  const chosen = cells.filter((cell) => ONLY.includes(`${cell.path}/${cell.operation.name}`));
  const unknown = ONLY.filter((name) => !cells.some((cell) => `${cell.path}/${cell.operation.name}` === name));
  if (unknown.length) throw new Error(`--only names no cell: ${unknown.join(', ')}`);
  return chosen;
}

interface Summary {
  path: PathName;
  operation: OperationName;
  rps: number;
  p50: number;
  p99: number;
}

function summarize(cell: Cell): Summary {
  return {
    path: cell.path,
    operation: cell.operation.name,
    rps: median(cell.rounds.map((m) => m.rps)),
    p50: median(cell.rounds.map((m) => m.p50)),
    p99: median(cell.rounds.map((m) => m.p99)),
  };
}

function resultRows(cells: Cell[]): string[][] {
  const sorted = [...cells].sort(
    (a, b) => OPERATIONS.indexOf(a.operation) - OPERATIONS.indexOf(b.operation) || PATHS.indexOf(a.path) - PATHS.indexOf(b.path),
  );
  return sorted.map((cell) => {
    const s = summarize(cell);
    const all = [...cell.rounds, ...(cell.warmUp ? [cell.warmUp] : [])];
    const sum = (pick: (m: Measurement) => number, of = all) => of.reduce((total, m) => total + pick(m), 0);
    const requests = sum((m) => m.requests, cell.rounds);
    return [
      cell.operation.name,
      cell.path,
      fmt(requests),
      fmt(s.rps),
      `${fmt(Math.min(...cell.rounds.map((m) => m.rps)))}-${fmt(Math.max(...cell.rounds.map((m) => m.rps)))}`,
      fmt(s.p50, 1),
      fmt(s.p99, 1),
      fmt(sum((m) => m.subgraphCalls, cell.rounds) / requests, 2),
      fmt(sum((m) => m.non2xx)),
      fmt(sum((m) => m.errors)),
      fmt(sum((m) => m.mismatches)),
      cell.expectBody === undefined ? 'status only' : 'every body',
    ];
  });
}

function comparisonRows(cells: Cell[]): string[][] {
  const find = (path: PathName, operation: OperationName) => {
    const cell = cells.find((c) => c.path === path && c.operation.name === operation);
    return cell ? summarize(cell) : undefined;
  };
  const row = (label: string, ours: Summary | undefined, other: Summary | undefined): string[] =>
    ours && other
      ? [label, `${fmt(ours.rps / other.rps, 2)}x`, fmt(ours.p50 - other.p50, 1), fmt(ours.p99 - other.p99, 1)]
      : [label, '-', '-', '-'];
  return [
    ...HIVE_FETCHES.flatMap((fetch) =>
      OPERATIONS.filter((operation) => operation.query).map((operation) =>
        row(`ecs-gateway / hive-${fetch}, ${operation.name}`, find('ecs-gateway', operation.name), find(`hive-${fetch}`, operation.name)),
      ),
    ),
    row('ecs-gateway / subgraph, one-plane', find('ecs-gateway', 'one-plane'), find('subgraph', 'one-plane')),
  ];
}

/** Seeds the tenant, starts the two Hive Gateways next to the stack, checks and measures every cell. */
async function benchGateway({ stack, databaseUrl, token }: BenchStack): Promise<{ cells: Cell[]; note: string }> {
  const base = stack.gateway.url;
  const plain = new Agent({ connections: 4, keepAliveTimeout: 4000 });
  const mtls = createMtlsAgent(stack.services.tls);
  const closeHives: Array<() => Promise<void>> = [];
  try {
    const tenantAdmin = await seedTenant(base, plain, token);
    const authOptions: AuthenticatorOptions = {
      verifier: await gatewayVerifier(base, plain, tenantAdmin),
      lookupApiKey: async () => ({ ok: false, reason: 'unknown' }),
      throttle: stack.services.throttle,
    };
    const authenticate = (authorization: string | null) =>
      identifyCaller({ authorization: authorization ?? undefined }, 'bench', authOptions);
    const caller = await authenticate(`Bearer ${tenantAdmin}`);
    countSubgraphCalls(stack);
    const hiveOptions: HiveOptions = {
      supergraph: runningSupergraph(await readFile(SUPERGRAPH_FILE, 'utf8'), (plane) => stack.subgraphs[plane].url),
      tls: stack.services.tls,
      authenticate,
      identityTokens: stack.services.identityTokens,
    };
    const hiveUrls = {} as Record<HiveFetch, string>;
    for (const fetch of HIVE_FETCHES) {
      const hive = await startHive(hiveOptions, fetch);
      closeHives.push(hive.close);
      registerCleanup(hive.close);
      hiveUrls[fetch] = hive.url;
    }
    const cells = await buildCells(stack, hiveUrls, tenantAdmin, caller);
    for (const cell of cells)
      cell.expectBody = await checkedAnswer(cell.path === 'subgraph' ? mtls : plain, cell.operation, cell.build, cell.path);
    await measureCells(cells);
    return { cells, note: databaseUrl ? await postgresVersion(databaseUrl) : 'PGlite' };
  } finally {
    for (const close of closeHives) await runCleanup(close, 'Hive Gateway');
    await plain.close();
    await mtls.close();
  }
}

runMain(async () => {
  if (SECONDS > IDENTITY_TTL_SECONDS - 10)
    throw new Error(`--seconds must be at most ${IDENTITY_TTL_SECONDS - 10} (identity tokens live ${IDENTITY_TTL_SECONDS} s)`);
  await checkBackends(['postgresql']);
  const hiveVersion = (JSON.parse(await readFile(require.resolve('@graphql-hive/gateway/package.json'), 'utf8')) as { version: string })
    .version;
  console.log(`# gateway: ${environment()}`);
  console.log(
    `${CONNECTIONS} keep-alive connections (autocannon, one worker thread), ${ROUNDS} interleaved rounds of ${SECONDS} s per ` +
      `path and operation (+ ${WARM_UP_SECONDS} s warm-up each); Hive Gateway ${hiveVersion}, in-flight ` +
      `deduplication ${HIVE_DEDUPE ? 'on (its default)' : 'off'}`,
  );
  const { cells, note } = await withStack('postgresql', {}, benchGateway);

  console.log('\n### gateway results\n');
  console.log(
    table(
      [
        'operation',
        'path',
        'requests',
        'req/s (median)',
        'rounds min-max',
        'p50 ms',
        'p99 ms',
        'plane calls/req',
        'non-2xx',
        'errors',
        'mismatches',
        'checked',
      ],
      resultRows(cells),
    ),
  );
  console.log('\n### ratios (same run)\n');
  console.log(table(['comparison', 'req/s ratio', 'p50 difference ms', 'p99 difference ms'], comparisonRows(cells)));
  console.log(
    `\nreq/s: autocannon's mean of per-second samples, median of the rounds; p50/p99: autocannon's latency percentiles, ` +
      `median of the rounds; plane calls/req: requests the planes received per request answered; non-2xx, errors (connection errors and timeouts) and mismatches (an answer other than the checked ` +
      `one): over the warm-up and all rounds. ${note}; the stack, Hive and the load generator share this machine.`,
  );

  const failures = cells.flatMap((cell) => {
    const count = [...cell.rounds, ...(cell.warmUp ? [cell.warmUp] : [])].reduce((total, m) => total + failed(m), 0);
    return count ? [`${cell.path} / ${cell.operation.name}: ${count} failed request(s)`] : [];
  });
  if (failures.length) throw new Error(`\n${failures.join('\n')}`);
});
