import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import { packDirectory } from '../support/bundle-writer/pack-directory';
import { testSigner } from '../support/bundles';
import { importDetails, sourceChain, targetChain, writeChainBundle } from '../support/migration-bundles';
import type { BuiltChain } from '../support/migration-bundles';
import { makeTempDir } from '../../testkit/temp-dir';

const ECS = path.resolve(__dirname, '..', '..', 'bin', 'ecs.js');

function ecs(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ECS, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('ecs verify <source bundle> <target bundle> (a real child process)', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let sourceSigner: BundleSigner;
  let targetSigner: BundleSigner;
  const file = (name: string): string => path.join(temp.path, name);
  // The source exported at sequence 4, then recorded migration.complete (sequence 5).
  const source = sourceChain('acme', 4, { complete: true });
  const head = source.events[3]!;

  /** A signed bundle of `chain` as `<name>` (a directory) and `<name>.tar.gz`. */
  async function bundle(name: string, chain: BuiltChain, signer: BundleSigner): Promise<void> {
    await writeChainBundle(chain, file(name), signer);
    await packDirectory(file(name), createWriteStream(file(`${name}.tar.gz`)));
  }

  beforeAll(async () => {
    temp = await makeTempDir('ecs-verify-migration-');
    sourceSigner = await testSigner(temp.path, 'source-keys.json');
    targetSigner = await testSigner(temp.path, 'target-keys.json');
    await writeFile(file('source-jwks.json'), JSON.stringify(sourceSigner.jwks));
    await writeFile(file('target-jwks.json'), JSON.stringify(targetSigner.jwks));
    await bundle('source', source, sourceSigner);
    await bundle('source-short', sourceChain('acme', 3), sourceSigner);
    await bundle('target', targetChain('acme', [importDetails(head)]), targetSigner);
    await bundle(
      'target-wrong-hash',
      targetChain('acme', [importDetails(head, { source_head_hash: source.events[2]!.event_hash })]),
      targetSigner,
    );
  });
  afterAll(() => temp.remove());

  const keys = (): string[] => ['--jwks', file('target-jwks.json'), '--source-jwks', file('source-jwks.json')];

  it('exits 0 when both bundles verify and the target chain continues the source chain', async () => {
    const result = await ecs('verify', file('source.tar.gz'), file('target.tar.gz'), ...keys(), '--strict');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^source bundle .*source\.tar\.gz \(5 events\): VALID \(\d+ checks passed\)$/),
      expect.stringMatching(/^target bundle .*target\.tar\.gz \(3 events\): VALID \(\d+ checks passed\)$/),
      `link: target ecs:tenant:acme sequence 1 (migration.import mim-1) continues source ecs:tenant:acme at sequence 4 (${head.event_hash})`,
      'verdict: VALID (both bundles verify and the target chain continues the source chain)',
    ]);
  });

  it('--json: {source, target, link, ok}, each bundle with its single-bundle report', async () => {
    const result = await ecs('verify', file('source'), file('target.tar.gz'), ...keys(), '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(report)).toEqual(['source', 'target', 'link', 'ok']);
    expect(Object.keys(report.source!)).toEqual(['ok', 'events', 'checks']);
    expect(report.target).toMatchObject({ ok: true, events: 3 });
    expect(report.link).toMatchObject({
      ok: true,
      target_chain_id: 'ecs:tenant:acme',
      source_chain_id: 'ecs:tenant:acme',
      linked: { sequence: 1, import_id: 'mim-1', source_head_sequence: 4, source_head_hash: head.event_hash, links: true },
    });
    expect(report.ok).toBe(true);
  });

  it('exits 1 with a clear link line when the recorded head hash is not the source event’s', async () => {
    const result = await ecs('verify', file('source.tar.gz'), file('target-wrong-hash.tar.gz'), ...keys());
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^target bundle .* VALID/m);
    expect(result.stdout).toContain(
      `link: FAIL migration.import mim-1 at target sequence 1 records source head sequence 4 with hash ${source.events[2]!.event_hash}, the source bundle's event there has ${head.event_hash}\n`,
    );
    expect(result.stdout).toMatch(/verdict: INVALID \(failed: link\)\n$/);
  });

  it('exits 1 when the source bundle ends before the recorded head sequence', async () => {
    const result = await ecs('verify', file('source-short'), file('target'), ...keys());
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'link: FAIL migration.import mim-1 at target sequence 1 records source head sequence 4, the source bundle holds no event there (it holds sequences 1..3)',
    );
    const json = JSON.parse((await ecs('verify', file('source-short'), file('target'), ...keys(), '--json')).stdout) as {
      source: { ok: boolean };
      link: { ok: boolean };
      ok: boolean;
    };
    expect(json).toMatchObject({ source: { ok: true }, link: { ok: false }, ok: false });
  });

  it('a bundle failing its own checks fails the verdict; a key of the wrong deployment fails the signature', async () => {
    // --jwks alone pins the target's keys for both bundles: the source was signed by another key.
    const result = await ecs('verify', file('source'), file('target'), '--jwks', file('target-jwks.json'));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^source bundle .*: INVALID/m);
    expect(result.stdout).toMatch(/^ {2}FAIL signature: manifest\.sig: no key .* in the JWKS$/m);
    expect(result.stdout).toMatch(/^link: target ecs:tenant:acme sequence 1/m);
    expect(result.stdout).toMatch(/verdict: INVALID \(failed: source bundle\)\n$/);
  });

  it('a single bundle is verified exactly as before', async () => {
    const text = await ecs('verify', file('target.tar.gz'), '--jwks', file('target-jwks.json'));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^bundle .*target\.tar\.gz \(3 events\): VALID \(\d+ checks passed\)\n$/);
    const json = await ecs('verify', file('target'), '--json');
    expect(json.code).toBe(0);
    expect(Object.keys(JSON.parse(json.stdout) as object)).toEqual(['ok', 'events', 'checks']);
  });

  it('--progress names each bundle on stderr; usage errors exit 2', async () => {
    const progress = await ecs('verify', file('source'), file('target'), '--progress', '--json');
    expect(progress.code).toBe(0);
    expect(progress.stderr).toMatch(/^verifying target: /);
    expect(progress.stderr).toMatch(/verified target: 3 events in \d+\.\d s\n/);
    expect(progress.stderr).toMatch(/verified source: 5 events in \d+\.\d s\n$/);

    const three = await ecs('verify', file('source'), file('target'), file('target.tar.gz'));
    expect(three.code).toBe(2);
    expect(three.stderr).toContain('unexpected argument');
    const sourceKeysAlone = await ecs('verify', file('target'), '--source-jwks', file('source-jwks.json'));
    expect(sourceKeysAlone.code).toBe(2);
    expect(sourceKeysAlone.stderr).toContain('--source-jwks needs two bundles');
    expect((await ecs('verify', file('source'), file('absent'))).code).toBe(2);
    const help = await ecs('verify', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: ecs verify <bundle> [target]');
    expect(help.stdout).toContain('two bundles (ecs verify <source bundle> <target bundle>)');
  });
});
