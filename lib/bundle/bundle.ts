/**
 * The evidence bundle as the verifier sees it: named files (paths relative to the bundle
 * root, `/`-separated), either as a map (`Bundle`: read lazily from a directory, or held in
 * memory) or as a sequence of entries visited once (`BundleEntry`: an archive as it
 * streams by, a directory as it is walked). File names follow the spec's golden bundles.
 */
import type { OrderKey } from './findings';

/** Names of the files of the golden layout (`spec/docs/examples/evidence-bundles/`). */
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  segment: 'chain-segment.json',
  events: 'events.jsonl',
  verifierInputs: 'verifier-inputs.json',
  profileClaim: 'profile-claim.json',
  /** Public keys of the manifest signature (optional; `--jwks` overrides). */
  jwks: 'jwks.json',
} as const;

/** Detached compact JWS over `manifest.json`, first name found wins. */
export const SIGNATURE_FILES = ['manifest.sig', 'signature.jws'] as const;

export const ARTIFACTS_DIR = 'artifacts/';

/** `typ` of the manifest signature. */
export const MANIFEST_SIGNATURE_TYP = 'ecs-bundle-manifest+jws';

export interface BundleFile {
  readonly size: number;
  /** The whole file (bounded by the read limits). */
  read(): Promise<Buffer>;
  /** The file in chunks, for files too large to hold (events.jsonl of a long chain). */
  chunks(): AsyncIterable<Buffer>;
}

/**
 * How far a reader has gone through a whole bundle, read live when progress is shown: the
 * compressed bytes of a `.tar.gz` consumed, or a directory's subdirectory files handed over
 * (known once hashed: subdirectory-hashing.ts).
 */
export interface BundleMeter {
  readonly read: number;
  readonly size: number;
  readonly unit: 'bytes' | 'files';
}

/** A file met while a bundle is read in one pass. */
export interface BundleEntry {
  readonly name: string;
  readonly size: number;
  /** Where the file stands in the bundle's own order (archive position, or path in a directory). */
  readonly key: OrderKey;
  /** The hex SHA-256 of the content, when the reader has hashed it already (files of a directory's subdirectories). */
  readonly digest?: string;
  /** The content in chunks; read it at most once, before asking for the next entry. */
  chunks(): AsyncIterable<Buffer>;
  /** The reader's position in the whole bundle, when it can tell (the same object for every entry that has one). */
  readonly meter?: BundleMeter;
}

/** The whole content of an entry (documents and artifacts: bounded by the read limits). */
export async function readEntry(entry: BundleEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry.chunks()) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export interface Bundle {
  /** What was read: a directory path or a `.tar.gz` path. */
  readonly source: string;
  readonly kind: 'directory' | 'tar.gz';
  readonly files: ReadonlyMap<string, BundleFile>;
}

/**
 * Limits on what a reader accepts; anything larger is refused, not truncated. The verifier
 * streams, so these bound time and temporary disk, not memory; the defaults admit a bundle of
 * ten million events (`EXPORT_MAX_EVENTS`: about 9 GB of events.jsonl, 4 GB of
 * chain-segment.json and 23 GB unpacked with one decision record per event).
 */
export interface ReadLimits {
  /** Largest single file. @default 32 GiB */
  maxFileBytes: number;
  /** Sum of all files (for a `.tar.gz`: of the unpacked archive). @default 64 GiB */
  maxTotalBytes: number;
  /** Number of files. @default 25,000,000 */
  maxFiles: number;
  /** Longest line of events.jsonl. @default 1 MiB */
  maxLineBytes: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxFileBytes: 32 * 1024 ** 3,
  maxTotalBytes: 64 * 1024 ** 3,
  maxFiles: 25_000_000,
  maxLineBytes: 1024 ** 2,
};

/** A bundle that cannot be read at all (missing, unsafe archive entry, over a limit). */
export class BundleReadError extends Error {
  override name = 'BundleReadError';
}

/** A file held in memory (from an archive, or written by a test). */
export function memoryFile(bytes: Buffer): BundleFile {
  return {
    size: bytes.length,
    read: async () => bytes,
    chunks: async function* () {
      yield bytes;
    },
  };
}

/**
 * Splits a file into `\n`-terminated lines decoded as strict UTF-8. Yields each line
 * without its `\n`; a last line without `\n` is yielded with `terminated: false`. A line
 * longer than `maxLineBytes` ends the iteration with an error. A chunk may be reused by
 * its source once the next one is asked for: the part of a line it ends with is copied.
 */
export async function* fileLines(
  chunks: AsyncIterable<Buffer>,
  maxLineBytes: number,
): AsyncGenerator<{ text: string; terminated: boolean }> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      const line = pending.length === 0 ? chunk.subarray(start, newline) : Buffer.concat([...pending, chunk.subarray(start, newline)]);
      if (line.length > maxLineBytes) throw new BundleReadError(`a line is longer than ${maxLineBytes} bytes`);
      pending = [];
      pendingBytes = 0;
      yield { text: decoder.decode(line), terminated: true };
      start = newline + 1;
    }
    if (start < chunk.length) {
      pending.push(Buffer.from(chunk.subarray(start)));
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) throw new BundleReadError(`a line is longer than ${maxLineBytes} bytes`);
    }
  }
  if (pendingBytes > 0) yield { text: decoder.decode(Buffer.concat(pending)), terminated: false };
}
