import { devIssuerFile, loadDevIssuer } from '../lib/auth/dev-issuer';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Repository root: the child runs `cli/start.ts` from here, as `npm start` does. */
export const REPO_ROOT = path.resolve(__dirname, '..');
/** `node --import tsx`: the server runs in the spawned process itself, as under `npm start`. */
const TSX_IMPORT = ['--import', 'tsx'];
const START_SCRIPT = 'cli/start.ts';

const DEFAULT_START_TIMEOUT_MS = 60_000;
/** How long `stop()` waits after its signal before killing the process tree. */
const KILL_AFTER_MS = 15_000;

/** `  GraphQL      POST/GET http://127.0.0.1:PORT/graphql` printed by the gateway (and the whole stack). */
const GATEWAY_URL_LINE = /^\s*GraphQL\s+POST\/GET\s+(https?:\/\/\S+\/graphql)\s*$/m;
/** `ECS <plane> plane listening on https://127.0.0.1:PORT/graphql (mutual TLS)` printed by a subgraph. */
const SUBGRAPH_URL_LINE = /^ECS \w+ plane listening on (https:\/\/\S+\/graphql)/m;

export interface ServerProcessOptions {
  /** Arguments after `cli/start.ts`: none (whole stack), `['gateway']` or `['subgraph', plane]`. */
  args?: string[];
  /** Added to the inherited environment; wins over the defaults (`PORT=0`, `LOG_LEVEL=warn`). */
  env: Record<string, string>;
  /** The checkout whose `cli/start.ts` runs (another worktree, for a benchmark's baseline). @default this one */
  root?: string;
}

export interface ServerProcess {
  /** The server's node process (TypeScript loaded by `--import tsx`: no relaying parent). */
  process: ChildProcess;
  /** `Date.now()` right before the spawn. */
  spawnedAt: number;
  /** stdout and stderr as received, interleaved. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Whether the process has exited (and its output streams closed). */
  exited(): boolean;
  /** Resolves with the first match of `pattern` in stdout; rejects on exit or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /**
   * Resolves with the exit code (`null` when ended by a signal) once the process has exited.
   * After `timeoutMs` the process tree is killed and the promise rejects with the output.
   */
  waitForExit(timeoutMs?: number): Promise<number | null>;
  /**
   * Sends `signal` (default SIGTERM) and resolves with the exit code. A process still running
   * 15 s later is killed with SIGKILL and the promise rejects.
   */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILLs the server and anything it started; resolves when it has exited. Never rejects. */
  kill(): Promise<void>;
}

export interface StartedServer extends ServerProcess {
  /** The GraphQL URL the process printed: `http://host:port/graphql`, or `https://...` for a subgraph. */
  url: string;
  /** Scheme, host and port of `url`, to reach `/healthz`, `/readyz`, `/metrics`. */
  origin: string;
}

const running = new Set<ServerProcess>();

/** Spawns `node --import tsx cli/start.ts ...args` without waiting for it to start. */
export function spawnServerProcess(options: ServerProcessOptions): ServerProcess {
  const inherited = { ...process.env };
  // The child takes its database only from `options.env`, and listens where the test says.
  delete inherited.DATABASE_URL;
  delete inherited.PORT;
  // Jest sets NODE_ENV=test, which changes the behaviour of libraries in the server (Apollo
  // Server, for one, installs no signal handlers then): run as `npm start` runs unless asked.
  delete inherited.NODE_ENV;
  const env: NodeJS.ProcessEnv = { ...inherited, PORT: '0', LOG_LEVEL: 'warn', ...options.env };

  const chunks: Array<{ stream: 'stdout' | 'stderr'; text: string }> = [];
  const text = (stream?: 'stdout' | 'stderr'): string =>
    chunks
      .filter((chunk) => stream === undefined || chunk.stream === stream)
      .map((chunk) => chunk.text)
      .join('');

  const spawnedAt = Date.now();
  // Node's own flags for the server alone, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to
  // profile the servers of a benchmark (NODE_OPTIONS refuses --cpu-prof).
  const nodeFlags = (process.env.ECS_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, ...TSX_IMPORT, START_SCRIPT, ...(options.args ?? [])], {
    cwd: options.root ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (data: string) => chunks.push({ stream: 'stdout', text: data }));
  child.stderr!.on('data', (data: string) => chunks.push({ stream: 'stderr', text: data }));

  let exitCode: number | null = null;
  let hasExited = false;
  const closed = new Promise<number | null>((resolve) => {
    // 'close' rather than 'exit': by then everything the process wrote has been read.
    child.once('close', (code) => {
      exitCode = code;
      hasExited = true;
      running.delete(handle);
      resolve(code);
    });
    child.once('error', (error) => {
      chunks.push({ stream: 'stderr', text: `\n[spawn error] ${error.message}\n` });
      hasExited = true;
      running.delete(handle);
      resolve(null);
    });
  });

  const describe = (): string => `${START_SCRIPT} ${(options.args ?? []).join(' ')}`.trim();
  const killTree = (): void => {
    if (hasExited || child.pid === undefined) return;
    killProcessTree(child.pid);
  };

  const handle: ServerProcess = {
    process: child,
    spawnedAt,
    output: () => text(),
    stdout: () => text('stdout'),
    stderr: () => text('stderr'),
    exited: () => hasExited,
    waitForOutput: (pattern, timeoutMs = DEFAULT_START_TIMEOUT_MS) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = (): boolean => {
          const match = text('stdout').match(pattern);
          if (!match) return false;
          done();
          resolve(match);
          return true;
        };
        const onExit = (): void => {
          if (check()) return;
          done();
          reject(new Error(`${describe()} exited with code ${String(exitCode)} before printing ${pattern}; output:\n${text()}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${describe()} printed no ${pattern} within ${timeoutMs} ms; output:\n${text()}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.off('close', onExit);
        };
        if (check()) return;
        if (hasExited) return onExit();
        child.stdout!.on('data', check);
        child.once('close', onExit);
      }),
    waitForExit: async (timeoutMs = KILL_AFTER_MS) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([closed, timedOut]);
      clearTimeout(timer);
      if (result !== 'timeout') return result;
      killTree();
      await closed;
      throw new Error(`${describe()} did not exit within ${timeoutMs} ms and was killed; output:\n${text()}`);
    },
    stop: async (signal = 'SIGTERM') => {
      if (!hasExited) {
        child.kill(signal);
      }
      return handle.waitForExit(KILL_AFTER_MS).catch((error: Error) => {
        throw new Error(`after ${signal}: ${error.message}`);
      });
    },
    kill: async () => {
      killTree();
      await closed;
    },
  };
  running.add(handle);
  return handle;
}

/**
 * Spawns the server and waits until it prints its GraphQL URL (the gateway's or, in
 * subgraph mode, the plane's). Kills it and rejects with its output when it exits or
 * prints nothing within `timeoutMs` (default 60 s).
 */
export async function startServerProcess(options: ServerProcessOptions & { timeoutMs?: number }): Promise<StartedServer> {
  const server = spawnServerProcess(options);
  const pattern = options.args?.[0] === 'subgraph' ? SUBGRAPH_URL_LINE : GATEWAY_URL_LINE;
  try {
    const match = await server.waitForOutput(pattern, options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    const url = match[1]!;
    return Object.assign(server, { url, origin: new URL(url).origin });
  } catch (error) {
    await server.kill();
    throw error;
  }
}

/** Kills every server process this module started that is still running (for `afterAll`). */
export async function killAllServerProcesses(): Promise<void> {
  await Promise.all([...running].map((server) => server.kill()));
}

/** A TCP port free on 127.0.0.1 right now (bound to port 0, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** `POST <origin>/graphql` with a JSON body. */
export async function postGraphQL<T = Record<string, unknown>>(
  origin: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<HttpResult<GraphQLBody<T>>> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLBody<T> };
}

/** `GET <origin><path>` parsed as JSON. */
export async function getJson<T = unknown>(origin: string, pathname: string): Promise<HttpResult<T>> {
  const response = await fetch(`${origin}${pathname}`);
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

/**
 * Polls `GET /readyz` until it answers 200 or `deadline` (a `Date.now()` value) passes;
 * returns the last answer (status 0 when nothing answered).
 */
export async function pollReadyz(origin: string, deadline: number): Promise<HttpResult<{ status: string; reasons: string[] } | undefined>> {
  let last: HttpResult<{ status: string; reasons: string[] } | undefined> = {
    status: 0,
    headers: new Headers(),
    body: undefined,
  };
  for (;;) {
    try {
      last = await getJson(origin, '/readyz');
      if (last.status === 200) return last;
    } catch {
      // Not accepting connections yet.
    }
    if (Date.now() >= deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Sends `signal` to a started server and every process under it (e.g. SIGSTOP to make it hang). */
export function signalProcessTree(server: ServerProcess, signal: NodeJS.Signals): void {
  const pid = server.process.pid;
  if (pid === undefined) return;
  for (const target of [...descendantsOf(pid).reverse(), pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone.
    }
  }
}

/** SIGKILLs `pid` and its descendants, descendants first (an orphan would keep running). */
function killProcessTree(pid: number): void {
  for (const target of [...descendantsOf(pid).reverse(), pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function descendantsOf(pid: number): number[] {
  const all: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const current = queue.shift()!;
    for (const child of childrenOf(current)) {
      if (!all.includes(child)) {
        all.push(child);
        queue.push(child);
      }
    }
  }
  return all;
}

/** Children of `pid` from /proc (Linux); none where /proc is unavailable. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: scan every process's parent.
  }
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return children;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while scanning.
    }
  }
  return children;
}

// A worker that exits with servers still running (a crash, a forced exit) takes them along.
process.once('exit', () => {
  for (const server of running) {
    if (server.process.pid !== undefined) killProcessTree(server.process.pid);
  }
});

/** Asserts an exit code, showing the process's output when it differs. */
export function expectExitCode(actual: number | null, expected: number, server: ServerProcess): void {
  if (actual !== expected) {
    throw new Error(`expected exit code ${expected}, got ${String(actual)}; output:\n${server.output()}`);
  }
  expect(actual).toBe(expected);
}

/**
 * `Authorization` for a platform administrator, from the development issuer whose key the
 * server created under DATA_DIR (what `npx ecs token --role platform-admin` prints).
 */
export async function adminHeaders(dataDir: string): Promise<Record<string, string>> {
  const issuer = await loadDevIssuer(devIssuerFile(dataDir));
  const token = await issuer.mint({ subject: 'e2e-admin', roles: ['platform-admin'], audience: 'ecs-gateway', ttlSeconds: 600 });
  return { authorization: `Bearer ${token}` };
}
