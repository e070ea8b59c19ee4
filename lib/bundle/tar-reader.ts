/**
 * A small, strict, streaming reader of `.tar.gz` archives (POSIX ustar and GNU tar output)
 * for evidence bundles. Entries are handed over one at a time as the archive inflates, so
 * memory holds one chunk, never the archive. It accepts regular files and directories
 * only, and refuses rather than repairs: absolute paths, `..` or empty segments,
 * backslashes, symbolic and hard links, devices, duplicate names, bad header checksums,
 * non-zero padding, data after the end-of-archive blocks, truncation, and anything over
 * the read limits (checked while inflating, so a gzip bomb stops early). PAX `path` and
 * `size` records, GNU long names and GNU base-256 sizes (files of 8 GiB and more) are
 * honoured; other PAX keys are ignored. A refusal is a `BundleReadError` thrown when the reader meets the fault; the
 * gzip checksum is checked when the stream ends, so a consumer must read to the end.
 */
import { createReadStream } from 'node:fs';
import type { ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { ArchiveNames } from './archive-names';
import { BundleReadError, readEntry } from './bundle';
import type { BundleEntry, BundleMeter, ReadLimits } from './bundle';
import { ChunkReader } from './chunk-reader';
import type { OrderKey } from './findings';
import { TempSpace } from './temp-space';

const BLOCK = 512;
/** Largest PAX or GNU long-name record accepted. */
const MAX_META_BYTES = 64 * 1024;
const MAX_NAME_CHARS = 1024;
/** Size of the pieces read from the file and inflated. */
const CHUNK_BYTES = 64 * 1024;

async function* inflated(gunzip: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Buffer> {
  let total = 0;
  try {
    for await (const chunk of gunzip) {
      total += chunk.length;
      if (total > maxBytes) throw new BundleReadError(`archive unpacks to more than ${maxBytes} bytes`);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof BundleReadError) throw error;
    throw new BundleReadError(`not a readable gzip file: ${(error as Error).message}`);
  }
}

function text(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number, what: string): number {
  if ((header[offset]! & 0x80) !== 0) throw new BundleReadError(`${what} uses base-256 encoding`);
  const raw = text(header, offset, length).trim();
  if (!/^[0-7]{1,12}$/.test(raw)) throw new BundleReadError(`${what} field is not an octal number`);
  return parseInt(raw, 8);
}

/** The size field: octal, or GNU base-256 (high bit of the first byte set, then big-endian). */
function sizeField(header: Buffer): number {
  if ((header[124]! & 0x80) === 0) return octal(header, 124, 12, 'size');
  if (header[124] !== 0x80) throw new BundleReadError('size field is negative or out of range');
  let value = 0n;
  for (let index = 125; index < 136; index += 1) value = (value << 8n) | BigInt(header[index]!);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new BundleReadError('size field is out of range');
  return Number(value);
}

function checkHeader(header: Buffer): void {
  let sum = 0;
  for (let index = 0; index < BLOCK; index += 1) sum += index >= 148 && index < 156 ? 0x20 : header[index]!;
  if (octal(header, 148, 8, 'checksum') !== sum) throw new BundleReadError('tar header checksum does not match');
  const magic = header.subarray(257, 265).toString('latin1');
  if (magic !== 'ustar\u000000' && magic !== 'ustar  \u0000') throw new BundleReadError('not a ustar/GNU tar archive');
}

/** A relative, `/`-separated path with no `.`/`..`/empty segment; `./` prefixes dropped. */
function safeName(raw: string, isDirectory: boolean): string {
  let name = raw;
  while (name.startsWith('./')) name = name.slice(2);
  if (isDirectory) name = name.replace(/\/$/, '');
  if (name === '' || name === '.') return '';
  if (name.length > MAX_NAME_CHARS) throw new BundleReadError('entry name is too long');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw new BundleReadError(`absolute path "${name}" in archive`);
  if (/[\\\u0000]/.test(name)) throw new BundleReadError(`entry name "${name}" contains a backslash or NUL`);
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new BundleReadError(`unsafe path "${name}" in archive`);
  }
  return name;
}

interface PaxRecords {
  path?: string;
  size?: number;
}

function paxRecords(data: Buffer): PaxRecords {
  const records: PaxRecords = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const length = space === -1 ? NaN : Number(data.subarray(offset, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length <= 0 || offset + length > data.length) {
      throw new BundleReadError('malformed PAX header');
    }
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === 'size') {
      if (!/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new BundleReadError('malformed PAX size record');
      records.size = Number(value);
    }
    if (key === 'path') records.path = value;
    offset += length;
  }
  return records;
}

const isZero = (bytes: Buffer): boolean => bytes.every((byte) => byte === 0);

/** The archive's compressed bytes read so far, out of its size (0 when unknown: no measure). */
class ArchiveMeter implements BundleMeter {
  readonly unit = 'bytes';

  constructor(
    private readonly stream: ReadStream,
    readonly size: number,
  ) {}

  get read(): number {
    return this.stream.bytesRead;
  }
}

/** A file of the archive whose data is read from the archive stream, at most once. */
class TarFileEntry implements BundleEntry {
  private remaining: number;

  constructor(
    readonly name: string,
    readonly size: number,
    readonly key: OrderKey,
    private readonly reader: ChunkReader,
    readonly meter: BundleMeter,
  ) {
    this.remaining = size;
  }

  async *chunks(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      const piece = await this.reader.next(this.remaining);
      if (!piece) throw new BundleReadError('archive is truncated inside an entry');
      this.remaining -= piece.length;
      yield piece;
    }
  }

  /** Passes over whatever the consumer left unread. */
  async skip(): Promise<void> {
    for await (const _ of this.chunks());
  }
}

async function data(reader: ChunkReader, size: number): Promise<Buffer> {
  const bytes = await reader.exactly(size);
  if (!bytes) throw new BundleReadError('archive is truncated inside an entry');
  return bytes;
}

async function padding(reader: ChunkReader, size: number): Promise<void> {
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if (pad > 0 && !isZero(await data(reader, pad))) throw new BundleReadError('non-zero padding after an entry');
}

/** After the first end-of-archive block: only zeros may follow, to the end of the stream. */
async function end(reader: ChunkReader): Promise<void> {
  for (let piece = await reader.next(CHUNK_BYTES); piece; piece = await reader.next(CHUNK_BYTES)) {
    if (!isZero(piece)) throw new BundleReadError('data after the end of the archive');
  }
}

/**
 * The regular files of a `.tar.gz`, in archive order, each to be read (or not) before the
 * next is asked for. Names are remembered in `names` (spilled to `space` when many).
 */
export async function* readTarEntries(file: string, limits: ReadLimits, space: TempSpace): AsyncGenerator<BundleEntry> {
  // A file that cannot be read fails as the stream's error below; its size only feeds progress.
  const archiveSize = await stat(file).then(
    (info) => info.size,
    () => 0,
  );
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  const source = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  const meter = new ArchiveMeter(source, archiveSize);
  const reader = new ChunkReader(inflated(gunzip, limits.maxTotalBytes + limits.maxFiles * BLOCK * 2 + 4 * BLOCK));
  const names = new ArchiveNames(space);
  let total = 0;
  let files = 0;
  let longName: string | undefined;
  let paxSize: number | undefined;
  try {
    for (;;) {
      const header = await reader.exactly(BLOCK);
      if (!header) throw new BundleReadError('archive is truncated (no end-of-archive block)');
      if (isZero(header)) {
        await end(reader);
        break;
      }
      checkHeader(header);
      const type = String.fromCharCode(header[156]!);
      const headerSize = sizeField(header);

      if (type === 'x' || type === 'g' || type === 'L') {
        if (headerSize > MAX_META_BYTES) throw new BundleReadError('extended header is too large');
        const meta = await data(reader, headerSize);
        await padding(reader, headerSize);
        if (type === 'x') {
          const records = paxRecords(meta);
          longName = records.path ?? longName;
          paxSize = records.size ?? paxSize;
        }
        if (type === 'L') longName = text(meta, 0, meta.length);
        continue;
      }
      // A pax `size` stands for the entry's size, whatever its ustar field says.
      const size = paxSize ?? headerSize;
      paxSize = undefined;
      const prefix = header.subarray(257, 263).toString('latin1') === 'ustar\u0000' ? text(header, 345, 155) : '';
      const raw = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
      longName = undefined;
      if (type === '5') {
        if (size !== 0) throw new BundleReadError('directory entry with data');
        safeName(raw, true);
        continue;
      }
      if (type !== '0' && type !== '\u0000') {
        const kind = type === '2' ? 'symbolic link' : type === '1' ? 'hard link' : `entry type "${type}"`;
        throw new BundleReadError(`${kind} "${raw}" in archive: only regular files are accepted`);
      }
      const name = safeName(raw, false);
      if (name === '') throw new BundleReadError('file entry without a name');
      names.add(name);
      if (size > limits.maxFileBytes) throw new BundleReadError(`"${name}" is larger than ${limits.maxFileBytes} bytes`);
      total += size;
      if (total > limits.maxTotalBytes) throw new BundleReadError(`archive holds more than ${limits.maxTotalBytes} bytes`);
      files += 1;
      if (files > limits.maxFiles) throw new BundleReadError(`archive holds more than ${limits.maxFiles} files`);
      const entry = new TarFileEntry(name, size, [files], reader, meter);
      yield entry;
      await entry.skip();
      await padding(reader, size);
    }
    names.finish();
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** Unpacks a small `.tar.gz` into a map of file name to bytes, in archive order (tests, tools). */
export async function readTarGz(file: string, limits: ReadLimits): Promise<Map<string, Buffer>> {
  const space = new TempSpace('ecs-tar-');
  try {
    const files = new Map<string, Buffer>();
    for await (const entry of readTarEntries(file, limits, space)) files.set(entry.name, await readEntry(entry));
    return files;
  } finally {
    await space.remove();
  }
}
