/**
 * Writes a bundle directory as a deterministic `.tar.gz` stream (sorted names, the headers
 * of lib/bundle/tar-header.ts), reading each file as a stream so that large bundles never
 * sit in memory. The tests pack what write-bundle.ts wrote, and tamper with it.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TAR_BLOCK, tarHeader } from '../../../lib/bundle/tar-header';

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
    const padding = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
    if (padding) yield Buffer.alloc(padding);
  }
  yield Buffer.alloc(TAR_BLOCK * 2);
}

/** Streams `dir` as a gzip-compressed tar into `out` (which is ended when done). */
export async function packDirectory(dir: string, out: NodeJS.WritableStream): Promise<void> {
  const names = await listFiles(dir);
  await pipeline(Readable.from(entries(dir, names)), createGzip(), out);
}
