/**
 * Packs a bundle directory as a `.tar.gz` with its files in a chosen order, quickly (small
 * files read in one call, gzip level 1): the verifier's streaming tests use it to put the
 * segment, the events and the artifacts of long bundles in every order an archive may have.
 */
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TAR_BLOCK, tarHeader } from '../../../lib/bundle/tar-header';

/** Every file under `dir` (relative, `/`-separated), in no particular order. */
export function bundleFileNames(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? bundleFileNames(dir, name) : [name];
  });
}

async function* entries(dir: string, names: readonly string[]): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const size = statSync(file).size;
    const content = size <= 1024 * 1024 ? [readFileSync(file)] : undefined;
    pending.push(tarHeader(name, size));
    if (content) pending.push(...content);
    else {
      yield Buffer.concat(pending);
      pending = [];
      for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
    }
    pending.push(Buffer.alloc((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK));
    length += size;
    if (length > 1024 * 1024) {
      yield Buffer.concat(pending);
      pending = [];
      length = 0;
    }
  }
  pending.push(Buffer.alloc(TAR_BLOCK * 2));
  yield Buffer.concat(pending);
}

/** Writes `names` of `dir` (in that order) as a gzip-compressed tar into `out`. */
export async function packInOrder(dir: string, names: readonly string[], out: NodeJS.WritableStream): Promise<void> {
  await pipeline(Readable.from(entries(dir, names)), createGzip({ level: 1 }), out);
}
