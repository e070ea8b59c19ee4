/**
 * A small, strict reader of `.tar.gz` archives (POSIX ustar and GNU tar output) into
 * memory, for evidence bundles. It accepts regular files and directories only, and refuses
 * rather than repairs: absolute paths, `..` or empty segments, backslashes, symbolic and
 * hard links, devices, duplicate names, bad header checksums, non-zero padding, data after
 * the end-of-archive blocks, truncation, and anything over the read limits (checked while
 * inflating, so a gzip bomb stops early). PAX `path` records and GNU long names are honoured
 * (other PAX keys are ignored; a PAX `size` is refused).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { BundleReadError } from './bundle';
import type { ReadLimits } from './bundle';

const BLOCK = 512;
/** Largest PAX or GNU long-name record accepted. */
const MAX_META_BYTES = 64 * 1024;
const MAX_NAME_CHARS = 1024;

async function inflate(file: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const gunzip = createGunzip();
  const source = createReadStream(file);
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw new BundleReadError(`archive unpacks to more than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof BundleReadError) throw error;
    throw new BundleReadError(`not a readable gzip file: ${(error as Error).message}`);
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  return Buffer.concat(chunks, total);
}

function text(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number, what: string): number {
  if ((header[offset]! & 0x80) !== 0) throw new BundleReadError(`${what} uses base-256 encoding (entry too large)`);
  const raw = text(header, offset, length).trim();
  if (!/^[0-7]{1,12}$/.test(raw)) throw new BundleReadError(`${what} field is not an octal number`);
  return parseInt(raw, 8);
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

function paxPath(data: Buffer): string | undefined {
  let path: string | undefined;
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
    if (key === 'size') throw new BundleReadError('PAX size records are not accepted');
    if (key === 'path') path = record.slice(equals + 1);
    offset += length;
  }
  return path;
}

/** Unpacks a `.tar.gz` into a map of file name to bytes (views into one buffer). */
export async function readTarGz(file: string, limits: ReadLimits): Promise<Map<string, Buffer>> {
  const archive = await inflate(file, limits.maxTotalBytes + limits.maxFiles * BLOCK * 2 + 4 * BLOCK);
  const files = new Map<string, Buffer>();
  const seen = new Set<string>();
  let total = 0;
  let offset = 0;
  let longName: string | undefined;
  for (;;) {
    if (offset + BLOCK > archive.length) throw new BundleReadError('archive is truncated (no end-of-archive block)');
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) {
      if (!archive.subarray(offset).every((byte) => byte === 0)) throw new BundleReadError('data after the end of the archive');
      break;
    }
    checkHeader(header);
    const type = String.fromCharCode(header[156]!);
    const size = octal(header, 124, 12, 'size');
    const dataStart = offset + BLOCK;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (dataStart + padded > archive.length) throw new BundleReadError('archive is truncated inside an entry');
    const data = archive.subarray(dataStart, dataStart + size);
    if (!archive.subarray(dataStart + size, dataStart + padded).every((byte) => byte === 0)) {
      throw new BundleReadError('non-zero padding after an entry');
    }
    offset = dataStart + padded;

    if (type === 'x' || type === 'g' || type === 'L') {
      if (size > MAX_META_BYTES) throw new BundleReadError('extended header is too large');
      if (type === 'x') longName = paxPath(data) ?? longName;
      if (type === 'L') longName = text(data, 0, data.length);
      continue;
    }
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
    if (seen.has(name)) throw new BundleReadError(`"${name}" appears twice in the archive`);
    seen.add(name);
    if (size > limits.maxFileBytes) throw new BundleReadError(`"${name}" is larger than ${limits.maxFileBytes} bytes`);
    total += size;
    if (total > limits.maxTotalBytes) throw new BundleReadError(`archive holds more than ${limits.maxTotalBytes} bytes`);
    if (seen.size > limits.maxFiles) throw new BundleReadError(`archive holds more than ${limits.maxFiles} files`);
    files.set(name, data);
  }
  return files;
}
