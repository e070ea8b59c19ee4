import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../../testkit/spawn-server';

/**
 * A Redis server of its own (the installed `redis-server`, on a free port, nothing saved to
 * disk), for tests that kill and restart it: the shared server is never touched.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Starts the server again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGKILLs the server (a crash) and waits for it to exit. */
  kill(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    server = child;
    const exited = new Promise<never>((_resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited with code ${String(code)}`)));
      child.once('error', reject);
    });
    exited.catch(() => undefined);
    await Promise.race([answers(port), exited]);
  };
  // A worker that exits with the server still running takes it along.
  process.once('exit', () => server?.kill('SIGKILL'));
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    kill: async () => {
      const child = server;
      server = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resolves once the server on `port` answers PING; rejects after 10 s. */
async function answers(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} does not answer PING`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One inline PING over a fresh connection: whether `+PONG` came back within a second. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
