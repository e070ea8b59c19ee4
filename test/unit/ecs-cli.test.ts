import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { devIssuerFile } from '../../lib/auth/dev-issuer';
import { makeTempDir } from '../../testkit/temp-dir';

const ECS = path.resolve(__dirname, '..', '..', 'bin', 'ecs.js');

function ecs(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ECS, ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** A stand-in gateway answering POST /graphql with `status`, recording the bearer tokens it saw. */
async function fakeGateway(status: number): Promise<{ url: string; tokens: string[]; close: () => Promise<void> }> {
  const tokens: string[] = [];
  const server = http.createServer((req, res) => {
    tokens.push(req.headers.authorization ?? '');
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status === 401 ? { errors: [{ message: 'the token is not signed by a trusted key' }] } : { data: {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, tokens, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('ecs --help (a real child process)', () => {
  it('lists the commands on --help, help and -h, with exit 0', async () => {
    for (const flag of ['--help', 'help', '-h']) {
      const result = await ecs({}, flag);
      expect([flag, result.code]).toEqual([flag, 0]);
      for (const command of ['migrate', 'token', 'verify', 'verify-proof', 'tenant']) expect(result.stdout).toContain(`  ${command} `);
    }
  });

  it.each([
    ['verify', ['--json', '--jwks <file>', '--strict', '--[no-]progress', 'exit codes: 0 valid, 1 failed checks']],
    ['verify-proof', ['--json', '--jwks <file>']],
    ['token', ['--role <role>', '--tenant <id>', '--ttl <duration>', '--check <gateway-url>', 'DATA_DIR']],
    ['migrate', ['DATABASE_URL']],
    ['tenant', ['ecs tenant <action> --help']],
  ])('ecs %s --help shows its options', async (command, expected) => {
    const result = await ecs({}, command, '--help');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`^usage: ecs ${command}`));
    for (const text of expected) expect(result.stdout).toContain(text);
    expect((await ecs({}, 'help', command)).stdout).toBe(result.stdout);
  });

  it('ecs tenant --help lists its actions, and each answers --help with its options', async () => {
    const actions: Record<string, string[]> = {
      export: ['--url <gateway-url>', '--tenant <id>', '--out <file>', '--scenario <scenario>'],
      import: ['--url <gateway-url>', '--package <file>', '--source-url <url>', '--source-jwks <url>'],
      activate: ['--url <gateway-url>', '--import <id>'],
      complete: ['--url <gateway-url>', '--export <id>', '--migrated-to <url>'],
      rollback: ['--url <gateway-url>', '--import <id>', '--export <id>', '--reason <text>'],
    };
    const overview = (await ecs({}, 'tenant', '--help')).stdout;
    const listed = /^actions: (.*)$/m.exec(overview)?.[1] ?? '';
    // `export (source), import (target), ...`: each action with its side in parentheses.
    expect([...listed.matchAll(/(?:^|, )([a-z]+) \(/g)].map((match) => match[1])).toEqual(Object.keys(actions));
    for (const [action, options] of Object.entries(actions)) {
      const result = await ecs({}, 'tenant', action, '--help');
      expect([action, result.code, result.stderr]).toEqual([action, 0, '']);
      expect(result.stdout).toMatch(new RegExp(`^usage: ecs tenant ${action} `));
      for (const option of [...options, 'exit codes: 0 ']) expect(result.stdout).toContain(option);
    }
  });

  it('exits 2 with one line for an unknown command or option', async () => {
    const unknown = await ecs({}, 'frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('ecs: unknown command "frobnicate" (see ecs --help)');
    const option = await ecs({}, 'verify-proof', 'proof.json', '--strict');
    expect(option.code).toBe(2);
    expect(option.stderr.trim()).toBe('ecs: unknown argument "--strict" (see ecs verify-proof --help)');
    expect((await ecs({})).code).toBe(2);
  });
});

describe('ecs token --check', () => {
  it('names the DATA_DIR of its key when the gateway refuses the token, exit 1', async () => {
    const dataDir = await makeTempDir('ecs-token-check-');
    const gateway = await fakeGateway(401);
    try {
      const result = await ecs({ DATA_DIR: dataDir.path }, 'token', '--role', 'reader', '--check', gateway.url);
      expect(result.code).toBe(1);
      const token = result.stdout.trim();
      expect(gateway.tokens).toEqual([`Bearer ${token}`]);
      expect(result.stderr).toContain(`refused the token (the token is not signed by a trusted key)`);
      expect(result.stderr).toContain(`DATA_DIR ${dataDir.path} (${devIssuerFile(dataDir.path)})`);
    } finally {
      await gateway.close();
      await dataDir.remove();
    }
  });

  it('exits 0 when the gateway accepts the token, and names the key file either way', async () => {
    const dataDir = await makeTempDir('ecs-token-check-');
    const gateway = await fakeGateway(200);
    try {
      const result = await ecs({ DATA_DIR: dataDir.path }, 'token', '--role', 'reader', '--check', gateway.url);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`key ${devIssuerFile(dataDir.path)} (DATA_DIR ${dataDir.path})`);
      expect(result.stderr).toContain('accepts the token');
      expect((await ecs({ DATA_DIR: dataDir.path }, 'token', '--role', 'reader', '--check', 'ftp://x')).code).toBe(2);
    } finally {
      await gateway.close();
      await dataDir.remove();
    }
  });
});
