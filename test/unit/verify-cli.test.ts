import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildInclusionDocument } from '../../lib/proofs/proof-document';
import { goldenBundleDir } from '../support/ecs-spec';
import { syntheticChain } from '../support/synthetic-chain';
import { makeTempDir } from '../../testkit/temp-dir';

const ECS = path.resolve(__dirname, '..', '..', 'bin', 'ecs.js');

function ecs(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ECS, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('ecs verify (a real child process)', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    temp = await makeTempDir('ecs-cli-');
  });
  afterAll(() => temp.remove());

  it('exits 0 with a summary for a golden bundle', async () => {
    const result = await ecs('verify', goldenBundleDir('baseline'));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/\(3 events\): VALID/);
    expect(result.stdout).toContain('warn coverage');
  });

  it('exits 1 naming the failing checks for a tampered copy, also as --json', async () => {
    const copy = path.join(temp.path, 'tampered');
    await cp(goldenBundleDir('baseline'), copy, { recursive: true });
    const events = path.join(copy, 'events.jsonl');
    await writeFile(events, (await readFile(events, 'utf8')).replace('"outcome":"accepted"', '"outcome":"refused"'));
    const result = await ecs('verify', copy);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('INVALID');
    expect(result.stdout).toMatch(/FAIL event-hashes: sequence 100: event_hash does not match the event/);

    const json = await ecs('verify', copy, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean }> };
    expect(report.ok).toBe(false);
    expect(report.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual(
      expect.arrayContaining(['event-hashes', 'chain-continuity']),
    );
  });

  it('--progress reports on stderr only: stdout stays the JSON report', async () => {
    const result = await ecs('verify', goldenBundleDir('baseline'), '--progress', '--json');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { ok: boolean; events: number }).events).toBe(3);
    expect(result.stderr).toMatch(/^verifying: 0% \[-+\] 0 \/ 3 events\n/);
    expect(result.stderr).toMatch(/verified 3 events in \d+\.\d s\n$/);
    // Not a terminal and not asked for: nothing on stderr.
    expect((await ecs('verify', goldenBundleDir('baseline'), '--json')).stderr).toBe('');
    expect((await ecs('verify', goldenBundleDir('baseline'), '--progress', '--no-progress')).code).toBe(2);
  });

  it('exits 2 on usage errors', async () => {
    expect((await ecs('verify')).code).toBe(2);
    expect((await ecs('verify', goldenBundleDir('ncp'), '--colour')).code).toBe(2);
    const missing = await ecs('verify', path.join(temp.path, 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const badJwks = path.join(temp.path, 'bad-jwks.json');
    await writeFile(badJwks, '{"keys": "none"}');
    expect((await ecs('verify', goldenBundleDir('ncp'), '--jwks', badJwks)).code).toBe(2);
  });

  it('verify-proof: 0 for a valid inclusion proof, 1 for a tampered one', async () => {
    const hashes = [...syntheticChain({ count: 9 }).events()].map((event) => event.event_hash);
    const proof = path.join(temp.path, 'proof.json');
    const document = buildInclusionDocument(hashes, 6);
    await writeFile(proof, JSON.stringify(document));
    const good = await ecs('verify-proof', proof);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('VALID');
    await writeFile(proof, JSON.stringify({ ...document, leaf_index: 5 }));
    const bad = await ecs('verify-proof', proof);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL proof');
  });
});
