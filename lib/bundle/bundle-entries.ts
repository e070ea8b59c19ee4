/**
 * The files of a bundle as one pass of entries, whatever holds them: a directory (its root
 * files streamed in the order the verifier wants them; the files of its subdirectories, a
 * million artifacts, hashed in the background meanwhile: subdirectory-hashing.ts), a
 * `.tar.gz` (tar-reader.ts) or a `Bundle` map (tests).
 */
import { BundleReadError } from './bundle';
import type { Bundle, BundleEntry, ReadLimits } from './bundle';
import { diskFileChunks } from './disk-file';
import { ReadBudget, listRoot, visitRank } from './directory-walk';
import { SubdirectoryHashing } from './subdirectory-hashing';
import type { TempSpace } from './temp-space';

export async function* directoryEntries(root: string, limits: ReadLimits, space: TempSpace): AsyncGenerator<BundleEntry> {
  const budget = new ReadBudget(limits);
  let listed: Awaited<ReturnType<typeof listRoot>>;
  try {
    listed = await listRoot(root);
  } catch (error) {
    if (error instanceof BundleReadError) throw error;
    throw new BundleReadError(`cannot read ${root}: ${(error as Error).message}`);
  }
  for (const { name, size } of listed.files) budget.add(name, size);
  const hashing = new SubdirectoryHashing(root, listed.directories, listed.files.length, limits, space);
  try {
    for (const { name, file, size, key } of listed.files) yield { name, size, key, chunks: () => diskFileChunks(name, file, size) };
    yield* hashing.entries(budget);
  } finally {
    await hashing.stop();
  }
}

/** The files of a map, those the event pass needs first; keys keep the map's order. */
export async function* memoryEntries(bundle: Bundle): AsyncGenerator<BundleEntry> {
  const files = [...bundle.files].map(([name, file], index) => ({ name, file, index }));
  files.sort((a, b) => visitRank(a.name) - visitRank(b.name));
  for (const { name, file, index } of files) yield { name, size: file.size, key: [index], chunks: () => file.chunks() };
}
