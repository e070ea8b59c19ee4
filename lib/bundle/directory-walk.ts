/**
 * Walks a bundle directory without following symbolic links, and without holding its
 * listing: the bundle root is listed whole (a handful of files),
 * subdirectories (`artifacts/`, a million files) are read entry by entry. Files come in
 * the order the verifier wants them (the documents, then the segment and events, then
 * the rest); `key` gives each its place in sorted order, which reports use.
 */
import { lstatSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { opendir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { BUNDLE_FILES, BundleReadError, SIGNATURE_FILES } from './bundle';
import type { ReadLimits } from './bundle';
import type { OrderKey } from './findings';

/** Directory depth walked (the bundle root and `artifacts/`, plus one level to report). */
export const MAX_DEPTH = 3;

/** Files read first, in this order: what the event pass needs comes before the events. */
const FIRST = [
  BUNDLE_FILES.manifest,
  ...SIGNATURE_FILES,
  BUNDLE_FILES.verifierInputs,
  BUNDLE_FILES.profileClaim,
  BUNDLE_FILES.jwks,
  BUNDLE_FILES.segment,
  BUNDLE_FILES.events,
] as readonly string[];

export interface WalkedFile {
  /** Relative, `/`-separated. */
  name: string;
  /** Absolute path on disk. */
  file: string;
  /**
   * From `lstat` for the files of the bundle root. The files of subdirectories (a million
   * artifacts) are known to be regular files from their directory entry, and sized when
   * they are opened: one system call fewer each.
   */
  size?: number;
  /** The path with `/` as the lowest character: sorts like a sorted depth-first walk. */
  key: OrderKey;
}

/** Files visited first are those of `FIRST`, in its order; the rest keep their order. */
export function visitRank(name: string): number {
  const rank = FIRST.indexOf(name);
  return rank === -1 ? FIRST.length : rank;
}

/** The read limits on a directory, applied file by file as sizes become known. */
export class ReadBudget {
  private files = 0;
  private total = 0;

  constructor(private readonly limits: ReadLimits) {}

  add(name: string, size: number): void {
    if (size > this.limits.maxFileBytes) throw new BundleReadError(`${name} is larger than ${this.limits.maxFileBytes} bytes`);
    this.total += size;
    if (this.total > this.limits.maxTotalBytes) throw new BundleReadError(`bundle holds more than ${this.limits.maxTotalBytes} bytes`);
    if (this.files >= this.limits.maxFiles) throw new BundleReadError(`bundle holds more than ${this.limits.maxFiles} files`);
    this.files += 1;
  }
}

type Kind = 'file' | 'directory';

function kindOf(root: string, name: string): { kind: Kind; size: number } {
  const stat = lstatSync(path.join(root, name));
  if (stat.isSymbolicLink()) throw new BundleReadError(`${name} is a symbolic link`);
  if (stat.isDirectory()) return { kind: 'directory', size: 0 };
  if (!stat.isFile()) throw new BundleReadError(`${name} is not a regular file`);
  return { kind: 'file', size: stat.size };
}

const walked = (root: string, name: string): WalkedFile => ({ name, file: path.join(root, name), key: pathKey(name) });

/** The kind a directory entry declares, or `lstat`'s when the file system declares none. */
function entryKind(root: string, name: string, entry: Dirent): Kind {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) throw new BundleReadError(`${name} is a symbolic link`);
  return kindOf(root, name).kind;
}

/** The files under a subdirectory of the bundle root (`depth` 1), in the order the file system lists them (tests and tools: the verifier walks subdirectories in worker threads). */
async function* walkSubdirectory(root: string, relative: string, depth = 1): AsyncGenerator<WalkedFile> {
  if (depth > MAX_DEPTH) throw new BundleReadError(`${relative} is nested too deep`);
  for await (const entry of await opendir(path.join(root, relative), { bufferSize: 256 })) {
    const name = `${relative}/${entry.name}`;
    if (entryKind(root, name, entry) === 'directory') yield* walkSubdirectory(root, name, depth + 1);
    else yield walked(root, name);
  }
}

/** The bundle root: its files (with their sizes, in visiting order) and its subdirectories. */
export async function listRoot(root: string): Promise<{ files: Array<WalkedFile & { size: number }>; directories: string[] }> {
  const top = (await readdir(root)).sort().map((name) => ({ name, ...kindOf(root, name) }));
  const files = top.filter(({ kind }) => kind === 'file').sort((a, b) => visitRank(a.name) - visitRank(b.name));
  return {
    files: files.map(({ name, size }) => ({ ...walked(root, name), size })),
    directories: top.filter(({ kind }) => kind === 'directory').map(({ name }) => name),
  };
}

/** Every regular file under `root`; throws `BundleReadError` on a link or a special file. */
export async function* walkDirectory(root: string): AsyncGenerator<WalkedFile> {
  const { files, directories } = await listRoot(root);
  yield* files;
  for (const directory of directories) yield* walkSubdirectory(root, directory);
}

/** The order key of a file of the bundle: its path with `/` as the lowest character. */
export function pathKey(name: string): OrderKey {
  return [name.replaceAll('/', '\u0000')];
}

/** The size of a walked file (`lstat` when the walk did not give it), checked as regular. */
export function walkedSize(root: string, file: WalkedFile): number {
  return file.size ?? kindOf(root, file.name).size;
}
