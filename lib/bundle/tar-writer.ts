/**
 * Writes a bundle directory as a deterministic `.tar.gz` stream (POSIX ustar: regular
 * files only, sorted names, mode 0644, owner 0, mtime 0), reading each file as a stream so
 * that large bundles never sit in memory. `tar -xzf` unpacks it; `readTarGz` reads it back.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\u0000`;
}

/** A ustar header; names over 100 bytes are split into prefix and name at a `/`. */
export function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    prefix = cut > 0 ? name.slice(0, cut) : '';
    base = cut > 0 ? name.slice(cut + 1) : name;
    if (!prefix || Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155) {
      throw new Error(`"${name}" is too long for a ustar header`);
    }
  }
  field(header, 0, 100, base);
  field(header, 100, 8, octal(0o644, 8));
  field(header, 108, 8, octal(0, 8));
  field(header, 116, 8, octal(0, 8));
  field(header, 124, 12, octal(size, 12));
  field(header, 136, 12, octal(0, 12));
  header.fill(0x20, 148, 156);
  header[156] = 0x30; // '0': regular file
  field(header, 257, 8, 'ustar\u000000');
  field(header, 345, 155, prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\u0000 `);
  return header;
}

/** Regular files under `dir`, relative `/`-separated names, sorted; refuses links. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  for (const entry of (await readdir(path.join(dir, prefix))).sort()) {
    const relative = prefix ? `${prefix}/${entry}` : entry;
    const stat = await lstat(path.join(dir, relative));
    if (stat.isDirectory()) names.push(...(await listFiles(dir, relative)));
    else if (stat.isFile()) names.push(relative);
    else throw new Error(`${relative} is neither a file nor a directory`);
  }
  return names;
}

async function* entries(dir: string, names: readonly string[]): AsyncGenerator<Buffer> {
  for (const name of names) {
    const file = path.join(dir, name);
    const { size } = await lstat(file);
    yield tarHeader(name, size);
    let written = 0;
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      written += chunk.length;
      yield chunk;
    }
    if (written !== size) throw new Error(`${name} changed while it was archived`);
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (padding) yield Buffer.alloc(padding);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** Streams `dir` as a gzip-compressed tar into `out` (which is ended when done). */
export async function packDirectory(dir: string, out: NodeJS.WritableStream): Promise<void> {
  const names = await listFiles(dir);
  await pipeline(Readable.from(entries(dir, names)), createGzip(), out);
}
