import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, pollReadyz } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { descendantsOf, isAnswering, isRunning, listeningPorts } from '../support/process-tree';

/**
 * The production build (`npm run build`, here into a temporary folder) runs with plain
 * `node dist/cli/start.js`, and a signal to whatever process the user started (the server,
 * or `npm start`) stops the whole stack: every port closed, no process left behind.
 * Signals do not depend on the database, so the `postgres` project skips this file.
 */
jest.setTimeout(120_000);

const GATEWAY_URL_LINE = /^\s*GraphQL\s+POST\/GET\s+(https?:\/\/\S+)\/graphql\s*$/m;
const PLANES_AND_GATEWAY = 6;

interface Launched {
  child: ChildProcess;
  origin: string;
  /** The started process and all its descendants, once the stack is ready. */
  pids: number[];
  ports: number[];
  exited: Promise<number | null>;
  output(): string;
}

const started: number[] = [];
let temp: Awaited<ReturnType<typeof makeTempDir>>;

async function launch(command: string, args: string[]): Promise<Launched> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', DATA_DIR: path.join(temp.path, `data-${started.length}`) };
  delete env.DATABASE_URL;
  delete env.NODE_ENV;
  // Only the `npm start` case is started by npm; jest itself may have been.
  for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name];
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child.pid!);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  let match: RegExpMatchArray | null = null;
  while (!(match = GATEWAY_URL_LINE.exec(output))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const origin = match[1]!;
  expect((await pollReadyz(origin, Date.now() + 30_000)).status).toBe(200);
  const pids = [child.pid!, ...descendantsOf(child.pid!)];
  started.push(...pids);
  return { child, origin, pids, ports: listeningPorts(pids), exited, output: () => output };
}

async function expectAllGone(launched: Launched, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (launched.pids.some(isRunning) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(launched.pids.filter(isRunning)).toEqual([]);
  const answering = [];
  for (const port of launched.ports) if (await isAnswering(port)) answering.push(port);
  expect(answering).toEqual([]);
}

const describeOnEmbedded = process.env.ECS_TEST_POSTGRES === '1' ? describe.skip : describe;

describeOnEmbedded('production build and signals', () => {
  beforeAll(async () => {
    temp = await makeTempDir('ecs-build-');
    // The compiled files find their dependencies as they would in the repository's dist/.
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(temp.path, 'node_modules'), 'dir');
    const build = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.js'), path.join(temp.path, 'dist')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 90_000,
    });
    if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  });

  afterEach(() => {
    for (const pid of started.splice(0)) {
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  afterAll(() => temp?.remove());

  it('node dist/cli/start.js serves without tsx and stops on SIGTERM', async () => {
    const server = await launch(process.execPath, [path.join(temp.path, 'dist', 'cli', 'start.js')]);
    expect(server.pids).toEqual([server.child.pid]);
    expect(server.ports.length).toBeGreaterThanOrEqual(PLANES_AND_GATEWAY);

    server.child.kill('SIGTERM');

    expect(await server.exited).toBe(0);
    await expectAllGone(server, 5_000);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to npm start stops the server under it', async (signal) => {
    const npm = await launch('npm', ['start']);
    expect(npm.pids.length).toBeGreaterThanOrEqual(2);
    expect(npm.ports.length).toBeGreaterThanOrEqual(PLANES_AND_GATEWAY);

    npm.child.kill(signal);

    await npm.exited;
    await expectAllGone(npm, 15_000);
  });
});
