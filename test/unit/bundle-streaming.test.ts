import { execFile, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import { verifyBundlePath } from '../../lib/bundle/verify-bundle';
import type { BundleCheck, VerifyResult } from '../../lib/bundle/verify-bundle';
import { bundleFileNames, packInOrder } from '../support/bundle-writer/pack-in-order';
import { testSigner } from '../support/bundles';
import { longBundleArtifact, writeLongBundle } from '../../testkit/long-bundle';
import { makeTempDir } from '../../testkit/temp-dir';

const ROOT = path.resolve(__dirname, '..', '..');
const failed = (result: VerifyResult): string[] => result.checks.filter((check) => !check.ok).map((check) => check.name);
const detail = (result: VerifyResult, name: string): string => result.checks.find((check) => check.name === name)!.detail;

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let signer: BundleSigner;
beforeAll(async () => {
  temp = await makeTempDir('ecs-streaming-');
  signer = await testSigner(temp.path);
});
afterAll(() => temp.remove());

/**
 * The files of a bundle directory as an exporter streams them (documents, segment, events,
 * artifacts) and the other way round: artifacts first, events before the segment and the
 * manifest last, so that the verifier has to put the events aside.
 */
function orders(dir: string): Array<[string, string[]]> {
  const names = bundleFileNames(dir);
  const artifacts = names.filter((name) => name.startsWith('artifacts/'));
  const documents = names.filter((name) => !name.startsWith('artifacts/') && !['events.jsonl', 'chain-segment.json'].includes(name)).sort();
  return [
    ['as exported', [...documents, 'chain-segment.json', 'events.jsonl', ...artifacts]],
    ['segment after the artifacts', [...artifacts, 'events.jsonl', 'chain-segment.json', ...documents.reverse()]],
  ];
}

async function pack(dir: string, label: string): Promise<Array<[string, string]>> {
  const archives: Array<[string, string]> = [];
  for (const [order, names] of orders(dir)) {
    const file = path.join(temp.path, `${label}-${archives.length}.tar.gz`);
    await packInOrder(dir, names, createWriteStream(file));
    archives.push([order, file]);
  }
  return archives;
}

// Each test writes 25,000 events with a file per event and verifies them several ways: seconds on
// a quiet machine, more than a minute on two cores busy with the rest of the suites.
jest.setTimeout(240_000);

describe('a long bundle, read as a stream', () => {
  // Long enough for every part to go to disk: spooled events and segment, spilled index and names.
  const count = 25_000;

  it('verifies the same from its directory and from archives in either order', async () => {
    const dir = path.join(temp.path, 'valid');
    await writeLongBundle(dir, { count, signer, eventsPerRecord: 1 });
    const options = { jwks: signer.jwks, requireFullCoverage: true };
    const results: Array<[string, VerifyResult]> = [['directory', await verifyBundlePath(dir, options)]];
    for (const [order, file] of await pack(dir, 'valid')) results.push([order, await verifyBundlePath(file, options)]);
    for (const [source, result] of results)
      expect({ source, failed: failed(result), events: result.events }).toEqual({ source, failed: [], events: count });
    const checks = (result: VerifyResult): BundleCheck[] => result.checks;
    expect(results.map(([, result]) => checks(result))).toEqual(results.map(() => checks(results[0]![1])));
  });

  it('reports a corrupted event far into the chain at its sequence, a missing and an extra artifact', async () => {
    const dir = path.join(temp.path, 'broken');
    await writeLongBundle(dir, { count, signer, eventsPerRecord: 1, tamperSequence: 24_000 });
    const missing = longBundleArtifact(20_001, 1);
    await rm(path.join(dir, missing.name));
    await writeFile(path.join(dir, 'artifacts', 'extra.json'), '{"unreferenced":true}');

    const options = { jwks: signer.jwks };
    const results = [await verifyBundlePath(dir, options)];
    for (const [, file] of await pack(dir, 'broken')) results.push(await verifyBundlePath(file, options));
    for (const result of results) {
      expect(failed(result)).toEqual(['event-hashes', 'chain-continuity', 'evidence-pointers', 'coverage']);
      expect(detail(result, 'event-hashes')).toBe('sequence 24000: event_hash does not match the event');
      expect(detail(result, 'chain-continuity')).toBe('sequence 24000: event_hash does not match the event');
      expect(detail(result, 'evidence-pointers')).toBe(
        `sequence 20001: no artifact matches ${missing.pointer}; artifacts/extra.json is referenced by nothing`,
      );
      expect(detail(result, 'coverage')).toMatch(/^bound by no hash or signature: artifacts\/extra\.json \(/);
    }
  });
});

describe('a directory whose artifacts are hashed in the background', () => {
  const refusedWith = async (dir: string, limits = {}): Promise<string> => {
    const result = await verifyBundlePath(dir, { limits });
    expect(result.checks.map((check) => check.name)).toEqual(['readable']);
    return result.checks[0]!.detail;
  };

  it('refuses a link, a special file, a file over the limit, too many files and nesting too deep', async () => {
    const dir = path.join(temp.path, 'refusals');
    await writeLongBundle(dir, { count: 300, eventsPerRecord: 1 });
    expect((await verifyBundlePath(dir)).ok).toBe(true);

    await symlink('/etc/hostname', path.join(dir, 'artifacts', 'link.json'));
    expect(await refusedWith(dir)).toBe('artifacts/link.json is a symbolic link');
    await rm(path.join(dir, 'artifacts', 'link.json'));

    if (spawnSync('mkfifo', [path.join(dir, 'artifacts', 'pipe')]).status === 0) {
      expect(await refusedWith(dir)).toBe('artifacts/pipe is not a regular file');
      await rm(path.join(dir, 'artifacts', 'pipe'));
    }

    await writeFile(path.join(dir, 'artifacts', 'big.json'), Buffer.alloc(300_000, 0x20));
    expect(await refusedWith(dir, { maxFileBytes: 200_000 })).toBe('artifacts/big.json is larger than 200000 bytes');
    expect(await refusedWith(dir, { maxFiles: 200 })).toBe('bundle holds more than 200 files');
    await rm(path.join(dir, 'artifacts', 'big.json'));

    await mkdir(path.join(dir, 'artifacts', 'a', 'b', 'c'), { recursive: true });
    await writeFile(path.join(dir, 'artifacts', 'a', 'b', 'c', 'd.json'), '{}');
    expect(await refusedWith(dir)).toBe('artifacts/a/b/c is nested too deep');
  });
});

/** Verifies in a fresh process (test/support/verify-in-child.ts); returns its result and peak RSS. */
function verifyInChild(target: string): Promise<{ ok: boolean; events: number; peakRssBytes: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [require.resolve('tsx/cli'), 'test/support/verify-in-child.ts', target],
      { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as never)),
    );
  });
}

describe('memory', () => {
  it('a chain ten times longer takes no more memory to verify: 200,000 events from a .tar.gz and from its directory, each in a child process', async () => {
    const peaks = { archive: [] as number[], directory: [] as number[] };
    for (const count of [20_000, 200_000]) {
      const dir = path.join(temp.path, `memory-${count}`);
      await writeLongBundle(dir, { count, eventsPerRecord: 8 });
      const [[, archive]] = (await pack(dir, `memory-${count}`)) as [[string, string]];
      for (const [form, target] of [
        ['archive', archive],
        ['directory', dir],
      ] as const) {
        const result = await verifyInChild(target);
        expect({ form, ok: result.ok, events: result.events }).toEqual({ form, ok: true, events: count });
        peaks[form].push(result.peakRssBytes);
      }
      await rm(dir, { recursive: true });
    }
    for (const [form, bytes] of Object.entries(peaks)) {
      const [short, long] = bytes.map((value) => value / 1024 / 1024) as [number, number];
      console.log(`${form}: peak RSS ${short.toFixed(0)} MB for 20,000 events, ${long.toFixed(0)} MB for 200,000`);
      // The reader that unpacked archives into memory needed about 1.4 GB for 200,000 events.
      expect(long).toBeLessThan(256);
      expect(long - short).toBeLessThan(48);
    }
  }, 240_000);
});
