import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Stoplight Prism in proxy mode, as a real process: it forwards each request to the upstream
 * and reports, in the `sl-violations` response header, where request and response depart
 * from the OpenAPI document. It is a validator of its own (its own router, parameter
 * deserialisation, security checks and JSON Schema engine), independent of the ajv checks
 * the other suites make.
 */

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PRISM_BIN = path.join(REPO_ROOT, 'node_modules', '.bin', 'prism');
/** Keeps Prism on this machine, and says so on stderr when it tries otherwise. */
const LOOPBACK_ONLY = path.join(__dirname, 'loopback-only.js');
export const REMOTE_CONNECTION_REFUSED = /loopback-only: refused a connection to (\S+)/g;

const LISTENING = /Prism is listening on (http:\/\/\S+)/;
const START_TIMEOUT_MS = 30_000;
const KILL_AFTER_MS = 5_000;

/** One entry of `sl-violations` (prism-http-server's `createErrorObjectWithPrefix`). */
export interface PrismViolation {
  /** `request` or `response`, then the path within it (`body`, a property, `query`, ...). */
  location: string[];
  severity: 'Error' | 'Warning' | 'Information' | 'Hint';
  code?: string | number;
  message: string;
}

export interface PrismProxy {
  /** Where clients send their requests: `http://127.0.0.1:<port>`. */
  url: string;
  /** Everything Prism printed, stdout and stderr interleaved. */
  output(): string;
  /** Hosts other than loopback Prism tried to reach (each refused). */
  remoteConnections(): string[];
  /** Ends Prism (SIGTERM, SIGKILL after 5 s); resolves once it has exited. Never rejects. */
  stop(): Promise<void>;
}

/**
 * Starts `prism proxy <document> <upstream> --errors=false` on a port the system chooses, and
 * resolves once it listens. `--errors=false`: a violation is reported, never turned into an
 * answer of Prism's own, so the client sees what the server sent.
 */
export async function startPrismProxy(options: { document: string; upstream: string }): Promise<PrismProxy> {
  const args = [
    '--require',
    LOOPBACK_ONLY,
    PRISM_BIN,
    'proxy',
    options.document,
    options.upstream,
    '--errors=false',
    '--host=127.0.0.1',
    // Port 0: the system picks a free port and Prism prints it, so no port is chosen first and raced for.
    '--port=0',
    // One process: its forked worker (the default under NODE_ENV=production) would outlive a kill of the parent.
    '--multiprocess=false',
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (data: string) => (text += data));
  child.stderr.setEncoding('utf8').on('data', (data: string) => (text += data));
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', (error) => {
      text += `\n[spawn error] ${error.message}\n`;
      resolve();
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  // Should the test process end without afterAll (a crash), Prism must not be left behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (!hasExited) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    await exited;
    clearTimeout(timer);
  };

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`Prism did not listen within ${START_TIMEOUT_MS} ms; output:\n${text}`)),
      START_TIMEOUT_MS,
    );
    const check = () => {
      const match = LISTENING.exec(text);
      if (match) finish(undefined, match[1]!);
    };
    const onExit = () => finish(new Error(`Prism exited before listening; output:\n${text}`));
    function finish(error: Error | undefined, listening?: string) {
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('close', onExit);
      if (error) reject(error);
      else resolve(listening!);
    }
    child.stdout.on('data', check);
    child.once('close', onExit);
    check();
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });

  return {
    url,
    output: () => text,
    remoteConnections: () => [...text.matchAll(REMOTE_CONNECTION_REFUSED)].map((match) => match[1]!),
    stop,
  };
}

/** The violations of one Prism response; a truncated header (Prism cuts it at 8 KB) is an error. */
export function readViolations(headers: Headers): PrismViolation[] {
  const header = headers.get('sl-violations');
  if (header === null) return [];
  if (!header.startsWith('[')) throw new Error(`sl-violations is not a JSON array (Prism truncates it past 8 KB): ${header.slice(0, 300)}`);
  return JSON.parse(header) as PrismViolation[];
}
