/**
 * Opens an evidence bundle as a map of its files: a directory (files read lazily, symbolic
 * links and special files refused) or a `.tar.gz` (unpacked into memory by the strict tar
 * reader: for small bundles, tests and tools; `verifyBundlePath` streams instead). Every
 * limit of `ReadLimits` applies.
 */
import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { BundleReadError, DEFAULT_LIMITS, memoryFile } from './bundle';
import type { Bundle, BundleFile, ReadLimits } from './bundle';
import { ReadBudget, walkDirectory, walkedSize } from './directory-walk';
import type { WalkedFile } from './directory-walk';
import { compareKeys } from './findings';
import { readTarGz } from './tar-reader';

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
  const budget = new ReadBudget(limits);
  const walked: Array<WalkedFile & { size: number }> = [];
  for await (const file of walkDirectory(root)) {
    const size = walkedSize(root, file);
    budget.add(file.name, size);
    walked.push({ ...file, size });
  }
  walked.sort((a, b) => compareKeys(a.key, b.key));
  return new Map(walked.map(({ name, file, size }) => [name, diskFile(file, size, limits)]));
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
