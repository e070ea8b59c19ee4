/**
 * Opens an evidence bundle: a directory (files read lazily, symbolic links and special
 * files refused) or a `.tar.gz` (unpacked into memory by the strict tar reader). Either
 * way the result is the same `Bundle` model; every limit of `ReadLimits` applies.
 */
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { BundleReadError, DEFAULT_LIMITS, memoryFile } from './bundle';
import type { Bundle, BundleFile, ReadLimits } from './bundle';
import { readTarGz } from './tar-reader';

/** Directory depth walked (the bundle root and `artifacts/`, plus one level to report). */
const MAX_DEPTH = 3;

function diskFile(file: string, size: number, limits: ReadLimits): BundleFile {
  return {
    size,
    read: async () => {
      const bytes = await readFile(file);
      if (bytes.length !== size || size > limits.maxFileBytes) {
        throw new BundleReadError(`${file} changed while it was read`);
      }
      return bytes;
    },
    chunks: () => createReadStream(file) as AsyncIterable<Buffer> & NodeJS.ReadableStream,
  };
}

async function readDirectory(root: string, limits: ReadLimits): Promise<Map<string, BundleFile>> {
  const files = new Map<string, BundleFile>();
  let total = 0;
  const walk = async (relative: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new BundleReadError(`${relative} is nested too deep`);
    for (const entry of (await readdir(path.join(root, relative))).sort()) {
      const name = relative ? `${relative}/${entry}` : entry;
      const stat = await lstat(path.join(root, name));
      if (stat.isSymbolicLink()) throw new BundleReadError(`${name} is a symbolic link`);
      if (stat.isDirectory()) {
        await walk(name, depth + 1);
        continue;
      }
      if (!stat.isFile()) throw new BundleReadError(`${name} is not a regular file`);
      if (stat.size > limits.maxFileBytes) throw new BundleReadError(`${name} is larger than ${limits.maxFileBytes} bytes`);
      total += stat.size;
      if (total > limits.maxTotalBytes) throw new BundleReadError(`bundle holds more than ${limits.maxTotalBytes} bytes`);
      if (files.size >= limits.maxFiles) throw new BundleReadError(`bundle holds more than ${limits.maxFiles} files`);
      files.set(name, diskFile(path.join(root, name), stat.size, limits));
    }
  };
  await walk('', 0);
  return files;
}

/** Reads a bundle directory or `.tar.gz`/`.tgz`; throws `BundleReadError` when it cannot. */
export async function readBundle(source: string, limits: Partial<ReadLimits> = {}): Promise<Bundle> {
  const effective = { ...DEFAULT_LIMITS, ...limits };
  let stat;
  try {
    stat = await lstat(source);
  } catch (error) {
    throw new BundleReadError(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    if (stat.isDirectory()) return { source, kind: 'directory', files: await readDirectory(source, effective) };
    if (!stat.isFile()) throw new BundleReadError(`${source} is neither a directory nor a file`);
    if (stat.size > effective.maxTotalBytes) throw new BundleReadError(`${source} is larger than ${effective.maxTotalBytes} bytes`);
    const entries = await readTarGz(source, effective);
    return {
      source,
      kind: 'tar.gz',
      files: new Map([...entries].map(([name, bytes]) => [name, memoryFile(bytes)] as const)),
    };
  } catch (error) {
    if (error instanceof BundleReadError) throw error;
    throw new BundleReadError(`cannot read ${source}: ${(error as Error).message}`);
  }
}
