import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { verifyBundle, verifyBundlePath } from '../../lib/bundle/verify-bundle';
import type { VerifyResult } from '../../lib/bundle/verify-bundle';
import { tarHeader } from '../../lib/bundle/tar-header';
import { packDirectory } from '../support/bundle-writer/pack-directory';
import { bundleFiles, memoryBundle, testSigner, writeTestBundle } from '../support/bundles';
import { goldenBundleDir } from '../support/ecs-spec';
import { makeTempDir } from '../../testkit/temp-dir';

/** mulberry32: a small seeded PRNG, so every run mutates the same positions. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Mutation {
  file: string;
  offset: number;
  result: VerifyResult;
}

/** Flips one byte (XOR with 1..255) at `count` random positions spread over all files by size. */
async function flipBytes(files: Map<string, Buffer>, count: number, seed: number): Promise<Mutation[]> {
  const random = prng(seed);
  const names = [...files.keys()].sort();
  const total = names.reduce((sum, name) => sum + files.get(name)!.length, 0);
  const mutations: Mutation[] = [];
  for (let index = 0; index < count; index += 1) {
    let offset = Math.floor(random() * total);
    const file = names.find((name) => {
      if (offset < files.get(name)!.length) return true;
      offset -= files.get(name)!.length;
      return false;
    })!;
    const bytes = Buffer.from(files.get(file)!);
    bytes[offset] = bytes[offset]! ^ (1 + Math.floor(random() * 255));
    mutations.push({ file, offset, result: await verifyBundle(memoryBundle(new Map(files).set(file, bytes))) });
  }
  return mutations;
}

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let written: Map<string, Buffer>;
let writtenDir: string;
beforeAll(async () => {
  temp = await makeTempDir('ecs-mutation-');
  writtenDir = path.join(temp.path, 'written');
  await writeTestBundle(writtenDir, { signer: await testSigner(temp.path), count: 30, ncp: true, profileId: 'ecs-evidence-ncp' });
  written = await bundleFiles(writtenDir);
});
afterAll(() => temp.remove());

describe('one flipped byte anywhere', () => {
  it('checklist 52: in a signed written bundle: all 300 copies are rejected', async () => {
    expect(written.has('manifest.sig')).toBe(true);
    const accepted = (await flipBytes(written, 300, 0x5eed)).filter((mutation) => mutation.result.ok);
    expect(accepted.map(({ file, offset }) => `${file}@${offset}`)).toEqual([]);
  });

  it.each(['baseline', 'ncp'] as const)('in golden bundle %s: rejected unless it lands in a file no hash binds', async (name) => {
    const files = await bundleFiles(goldenBundleDir(name));
    const original = await verifyBundle(memoryBundle(files));
    const loose = ['manifest.json', 'profile-claim.json', 'verifier-inputs.json'];
    expect(original.checks.find((check) => check.name === 'coverage')!.detail).toContain(loose.join(', '));
    const mutations = await flipBytes(files, 300, name === 'baseline' ? 1 : 2);
    for (const { file, result } of mutations.filter((mutation) => mutation.result.ok)) {
      // The golden method binds events (event and bundle hashes), the segment
      // (chain_segment_ref) and artifacts (pointers), not these three files: the
      // verifier reports them as loose rather than pretending to cover them.
      expect(loose).toContain(file);
      expect(result.checks.find((check) => check.name === 'coverage')!.warning).toBe(true);
    }
    const boundFlips = mutations.filter((mutation) => !loose.includes(mutation.file));
    expect(boundFlips.length).toBeGreaterThan(100);
    expect(boundFlips.every((mutation) => !mutation.result.ok)).toBe(true);
  });

  it('in a .tar.gz past the gzip header: every copy whose content changed is rejected', async () => {
    const archive = path.join(temp.path, 'written.tar.gz');
    await packDirectory(writtenDir, createWriteStream(archive));
    const bytes = await readFile(archive);
    const content = gunzipSync(bytes);
    const random = prng(42);
    // Bytes 0-9 are the gzip header (flags, mtime, OS): not part of the CRC, and not bundle content.
    for (let index = 0; index < 100; index += 1) {
      const copy = Buffer.from(bytes);
      const offset = 10 + Math.floor(random() * (bytes.length - 10));
      copy[offset] = copy[offset]! ^ (1 + Math.floor(random() * 255));
      const file = path.join(temp.path, `flip-${index}.tar.gz`);
      await writeFile(file, copy);
      // Deflate has bits that do not change the output (e.g. unused code lengths): such a copy
      // holds exactly the same bundle, and accepting it is right. Every other copy is refused.
      let sameContent = false;
      try {
        sameContent = gunzipSync(copy).equals(content);
      } catch {
        sameContent = false;
      }
      expect({ offset, ok: (await verifyBundlePath(file)).ok }).toEqual({ offset, ok: sameContent });
    }
  });
});

describe('fuzz: never throws, never hangs, never accepts', () => {
  const rejects = async (files: Map<string, Buffer>, limits = {}): Promise<void> => {
    const result = await verifyBundle(memoryBundle(files), { limits });
    expect(result.ok).toBe(false);
  };

  it('every file truncated at random lengths', async () => {
    const random = prng(7);
    for (const [name, bytes] of written) {
      for (let round = 0; round < 4; round += 1) {
        await rejects(new Map(written).set(name, bytes.subarray(0, Math.floor(random() * bytes.length))));
      }
    }
  });

  it('events.jsonl lines reordered at random', async () => {
    const random = prng(9);
    const lines = written.get('events.jsonl')!.toString().trimEnd().split('\n');
    for (let round = 0; round < 40; round += 1) {
      const shuffled = [...lines];
      const a = Math.floor(random() * lines.length);
      let b = Math.floor(random() * lines.length);
      if (a === b) b = (b + 1) % lines.length;
      [shuffled[a], shuffled[b]] = [shuffled[b]!, shuffled[a]!];
      await rejects(new Map(written).set('events.jsonl', Buffer.from(`${shuffled.join('\n')}\n`)));
    }
  });

  it('checklist 58: oversized inputs: a huge line, a huge file, too many files', async () => {
    await rejects(new Map(written).set('events.jsonl', Buffer.alloc(3 * 1024 * 1024, 0x61)));
    await rejects(new Map(written).set('events.jsonl', Buffer.concat([written.get('events.jsonl')!, Buffer.alloc(2048, 0x20)])), {
      maxLineBytes: 1024,
    });
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    await rejects(new Map(written).set('events.jsonl', Buffer.from(`${deep}\n`)));
    const manifest = JSON.parse(written.get('manifest.json')!.toString()) as Record<string, unknown>;
    const nested = JSON.stringify({ ...manifest, producer_identity: 0 }).replace('"producer_identity":0', `"producer_identity":${deep}`);
    await rejects(new Map(written).set('manifest.json', Buffer.from(nested)));
    const result = await verifyBundlePath(writtenDir, { limits: { maxFileBytes: 1024 } });
    expect(result.checks).toEqual([expect.objectContaining({ name: 'readable', ok: false })]);
    expect((await verifyBundlePath(writtenDir, { limits: { maxFiles: 3 } })).ok).toBe(false);
  });

  it('random garbage, gzip of garbage, and broken tarballs', async () => {
    const random = prng(11);
    const noise = (length: number): Buffer => Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    const dir = path.join(temp.path, 'garbage');
    await mkdir(dir);
    const header = tarHeader('manifest.json', 10_000);
    const candidates = [
      Buffer.alloc(0),
      ...Array.from({ length: 10 }, (_, i) => noise(1 + i * 97)),
      ...Array.from({ length: 10 }, (_, i) => gzipSync(noise(1 + i * 311))),
      gzipSync(Buffer.concat([header, noise(700)])),
      gzipSync(Buffer.concat([header, noise(10_240), Buffer.alloc(1024)])),
      gzipSync(Buffer.alloc(4096)),
      gzipSync(Buffer.concat([tarHeader('x/../../y', 0), Buffer.alloc(1024)])),
    ];
    for (const [index, bytes] of candidates.entries()) {
      const file = path.join(dir, `g${index}.tar.gz`);
      await writeFile(file, bytes);
      const result = await verifyBundlePath(file);
      expect(result.ok).toBe(false);
    }
  });
});
