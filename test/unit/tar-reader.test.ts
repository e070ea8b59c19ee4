import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BundleReadError, DEFAULT_LIMITS } from '../../lib/bundle/bundle';
import { readTarGz } from '../../lib/bundle/tar-reader';
import { tarHeader } from '../../lib/bundle/tar-header';
import { packDirectory } from '../support/bundle-writer/pack-directory';
import { makeTempDir } from '../../testkit/temp-dir';

/** A ustar header with any name and type flag, checksum recomputed. */
function header(name: string, size: number, type = '0'): Buffer {
  const block = tarHeader('placeholder', size);
  block.fill(0, 0, 100);
  block.write(name, 0, 100, 'utf8');
  block[156] = type.charCodeAt(0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return block;
}

function entry(name: string, data: string, type = '0'): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([header(name, bytes.length, type), bytes, Buffer.alloc((512 - (bytes.length % 512)) % 512)]);
}

const END = Buffer.alloc(1024);

describe('strict tar.gz reader', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    dir = await makeTempDir('ecs-tar-');
  });
  afterAll(() => dir.remove());

  const archive = async (name: string, ...parts: Buffer[]): Promise<string> => {
    const file = path.join(dir.path, name);
    await writeFile(file, gzipSync(Buffer.concat(parts)));
    return file;
  };
  const read = (file: string, limits = {}) => readTarGz(file, { ...DEFAULT_LIMITS, ...limits });

  it('reads back what packDirectory writes, and what GNU tar writes', async () => {
    const source = path.join(dir.path, 'source');
    await mkdir(path.join(source, 'artifacts'), { recursive: true });
    await writeFile(path.join(source, 'manifest.json'), '{"a":1}\n');
    await writeFile(path.join(source, 'artifacts', 'x.json'), 'x'.repeat(1000));
    const ours = path.join(dir.path, 'ours.tar.gz');
    await packDirectory(source, createWriteStream(ours));
    const files = await read(ours);
    expect([...files.keys()]).toEqual(['artifacts/x.json', 'manifest.json']);
    expect(files.get('artifacts/x.json')!.toString()).toBe('x'.repeat(1000));

    const gnu = path.join(dir.path, 'gnu.tar.gz');
    const tar = spawnSync('tar', ['-czf', gnu, '-C', source, '.']);
    if (tar.status !== 0) return; // no tar on this machine: the packDirectory round trip stands
    expect([...(await read(gnu)).keys()].sort()).toEqual(['artifacts/x.json', 'manifest.json']);
    const listing = spawnSync('tar', ['-tzf', ours], { encoding: 'utf8' });
    expect(listing.stdout.trim().split('\n').sort()).toEqual(['artifacts/x.json', 'manifest.json']);
  });

  it.each([
    ['an absolute path', /absolute/, entry('/etc/passwd', 'x')],
    ['a parent segment', /unsafe path/, entry('artifacts/../../evil', 'x')],
    ['a bare parent', /unsafe path/, entry('..', 'x')],
    ['an empty segment', /unsafe path/, entry('artifacts//x', 'x')],
    ['a backslash', /backslash/, entry('artifacts\\..\\x', 'x')],
    ['a symbolic link', /symbolic link/, entry('manifest.json', '', '2')],
    ['a hard link', /hard link/, entry('manifest.json', '', '1')],
    ['a device', /entry type/, entry('dev', '', '3')],
    ['a PAX size record that is not a number', /malformed PAX size/, entry('pax', '13 size=-999\n', 'x'), entry('a', 'x')],
    ['a PAX size past the data', /truncated/, entry('pax', '13 size=9999\n', 'x'), entry('a', 'x')],
    ['a PAX path escaping the root', /unsafe path/, entry('pax', '16 path=../evil\n', 'x'), entry('a', 'x')],
  ] as Array<[string, RegExp, ...Buffer[]]>)('checklist 53: refuses %s', async (_, reason, ...parts) => {
    const refused = read(await archive(`bad-${Math.random()}.tgz`, ...parts, END));
    await expect(refused).rejects.toThrow(BundleReadError);
    await expect(refused).rejects.toThrow(reason);
  });

  it('checklist 53: refuses duplicates, bad checksums, truncation, garbage after the end and non-zero padding', async () => {
    const twice = await archive('twice.tgz', entry('a', '1'), entry('./a', '2'), END);
    await expect(read(twice)).rejects.toThrow(/twice/);
    const corrupt = entry('a', 'hello');
    corrupt[0] = 0x62;
    await expect(read(await archive('sum.tgz', corrupt, END))).rejects.toThrow(/checksum/);
    await expect(read(await archive('short.tgz', entry('a', 'x'.repeat(600)).subarray(0, 900)))).rejects.toThrow(/truncated/);
    await expect(read(await archive('noend.tgz', entry('a', 'x')))).rejects.toThrow(/truncated/);
    await expect(read(await archive('after.tgz', entry('a', 'x'), END, Buffer.from('junk')))).rejects.toThrow(/after the end/);
    const padded = entry('a', 'x');
    padded[600] = 1;
    await expect(read(await archive('pad.tgz', padded, END))).rejects.toThrow(/padding/);
  });

  it('checklist 53: refuses entries and archives over the limits, and gzip bombs early', async () => {
    const big = await archive('big.tgz', entry('a', 'x'.repeat(5000)), END);
    await expect(read(big, { maxFileBytes: 4096 })).rejects.toThrow(/larger than/);
    await expect(read(big, { maxTotalBytes: 4096, maxFiles: 1 })).rejects.toThrow(/more than/);
    const many = await archive('many.tgz', entry('a', '1'), entry('b', '2'), entry('c', '3'), END);
    await expect(read(many, { maxFiles: 2 })).rejects.toThrow(/more than 2 files/);
    const bomb = path.join(dir.path, 'bomb.tgz');
    await writeFile(bomb, gzipSync(Buffer.alloc(64 * 1024 * 1024)));
    await expect(read(bomb, { maxTotalBytes: 1024 * 1024, maxFiles: 10 })).rejects.toThrow(/unpacks to more than/);
  });

  it('checklist 53: refuses a duplicate among more names than it holds in memory (spilled to disk)', async () => {
    // Past 20,000 names they are compared on disk when the archive ends: the repeat is still found.
    const entries = (duplicate: number): Buffer[] =>
      Array.from({ length: 25_000 }, (_, index) => entry(`artifacts/a-${index === duplicate ? 21_000 : index}.json`, '{}'));
    await expect(read(await archive('late-twice.tgz', ...entries(24_000), END))).rejects.toThrow(
      /"artifacts\/a-21000\.json" appears twice/,
    );
    await expect(
      read(await archive('early-twice.tgz', ...entries(24_000).slice(0, 21_000), entry('artifacts/a-3.json', '{}'), END)),
    ).rejects.toThrow(/"artifacts\/a-3\.json" appears twice/);
    const distinct = await read(await archive('distinct.tgz', ...entries(-1), END));
    expect(distinct.size).toBe(25_000);
  });

  it('reads a PAX size in place of the ustar field, as a file of 8 GiB and more needs', async () => {
    const data = Buffer.from('pax-sized');
    const body = Buffer.concat([data, Buffer.alloc(512 - data.length)]);
    const files = await read(await archive('pax-size.tgz', entry('pax', '10 size=9\n', 'x'), header('a', 0), body, END));
    expect(files.get('a')!.toString()).toBe('pax-sized');
  });

  it('writes a file over 8 GiB with a PAX size and a base-256 ustar size, which GNU tar and this reader read back', async () => {
    const size = 9_000_000_001;
    const headers = tarHeader('events.jsonl', size);
    expect(headers.length).toBe(3 * 512);
    expect(headers.subarray(512, 1024).toString('utf8')).toMatch(/^19 size=9000000001\n/);
    expect(headers[1024 + 124]).toBe(0x80);
    // Headers alone: the reader takes the size, then stops at the limit before any data.
    await expect(read(await archive('huge.tgz', headers, END), { maxFileBytes: 8 * 1024 ** 3 })).rejects.toThrow(
      /"events.jsonl" is larger than 8589934592 bytes/,
    );
    // The base-256 field alone (no pax header) says the same.
    await expect(read(await archive('huge-256.tgz', headers.subarray(1024), END), { maxFileBytes: 8 * 1024 ** 3 })).rejects.toThrow(
      /is larger than 8589934592/,
    );
    const plain = path.join(dir.path, 'huge.tar');
    await writeFile(plain, Buffer.concat([headers, END]));
    const listing = spawnSync('tar', ['-tvf', plain], { encoding: 'utf8' });
    if (listing.error) return; // no tar on this machine: the reader's round trip stands
    expect(listing.stdout).toMatch(/9000000001 .*events\.jsonl/);
  });

  it('refuses what is not a gzip-compressed tar', async () => {
    const garbage = path.join(dir.path, 'garbage.tgz');
    await writeFile(garbage, Buffer.from('definitely not gzip'));
    await expect(read(garbage)).rejects.toThrow(/gzip/);
    await expect(read(await archive('plain.tgz', Buffer.from('x'.repeat(2048))))).rejects.toThrow(BundleReadError);
  });
});
