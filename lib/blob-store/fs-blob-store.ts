import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobIntegrityError, BlobMd5MismatchError, BlobStoreUnavailableError, BlobTooLargeError, SHA256_HEX } from './blob-store';
import type { BlobStore, PutOptions, StoredBlob, SweepResult, WrittenBlob } from './blob-store';

/**
 * Blobs as files under `root`: `<root>/sha256/ab/cd/<hex>`. A put streams into
 * `<root>/tmp/<uuid>` while hashing, fsyncs, and renames into place only when the hash is
 * known (and matches the expected one); any failure removes the temporary file, so an
 * aborted or refused upload leaves no visible blob. Same content, same file.
 */
export class FsBlobStore implements BlobStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly root: string) {}

  private pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error('not a sha256 hex digest');
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  private tmpDir(): string {
    return path.join(this.root, 'tmp');
  }

  private ensureDirs(): Promise<void> {
    // A failure is not remembered: once the disk is fixed, the next put tries again.
    return (this.ready ??= mkdir(this.tmpDir(), { recursive: true }).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    ));
  }

  async put(stream: Readable, options: PutOptions = {}): Promise<WrittenBlob> {
    await unavailableOnFailure(this.ensureDirs());
    const tmp = path.join(this.tmpDir(), `${randomUUID()}.part`);
    const hash = createHash('sha256');
    const md5Hash = createHash('md5');
    let size = 0;
    let file: FileHandle | undefined;
    try {
      file = await unavailableOnFailure(open(tmp, 'wx', 0o600));
      // The caller owns the stream: a refusal must not tear down, e.g., an HTTP request
      // whose response is still to be sent.
      for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        size += buffer.length;
        if (options.maxBytes !== undefined && size > options.maxBytes) throw new BlobTooLargeError(options.maxBytes);
        hash.update(buffer);
        md5Hash.update(buffer);
        let offset = 0;
        while (offset < buffer.length) {
          const { bytesWritten } = await unavailableOnFailure(file.write(buffer, offset, buffer.length - offset));
          offset += bytesWritten;
        }
      }
      await unavailableOnFailure(file.sync());
      await unavailableOnFailure(file.close());
      file = undefined;
      const sha256 = hash.digest('hex');
      const md5 = md5Hash.digest('hex');
      // A body that is not what its sender hashed is refused as such, before its SHA-256 is judged.
      if (options.expectedMd5 !== undefined && options.expectedMd5 !== md5) throw new BlobMd5MismatchError(options.expectedMd5, md5, size);
      if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256) {
        throw new BlobIntegrityError(options.expectedSha256, sha256, size);
      }
      const target = this.pathOf(sha256);
      await unavailableOnFailure(mkdir(path.dirname(target), { recursive: true }));
      await unavailableOnFailure(rename(tmp, target));
      await syncDir(path.dirname(target));
      return { sha256, size, md5 };
    } catch (error) {
      await file?.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  async open(sha256: string): Promise<Readable> {
    // Opened here, so that a missing blob rejects now, not on the stream's first read. The
    // stream reads through fs's callback functions (a FileHandle's stream costs more per read).
    const file = this.pathOf(sha256);
    const fd = await new Promise<number>((resolve, reject) =>
      fs.open(file, 'r', (error, opened) => (error ? reject(error) : resolve(opened))),
    );
    return fs.createReadStream(file, { fd });
  }

  readSmall(sha256: string, maxBytes: number): Promise<Buffer | undefined> {
    const file = this.pathOf(sha256);
    // fs's callback functions: a third of the CPU of a FileHandle's open, read and close.
    return new Promise((resolve, reject) => {
      fs.open(file, 'r', (openError, fd) => {
        if (openError) return reject(openError);
        // One byte more than allowed tells a larger file apart. A read of a regular file
        // returns fewer bytes than asked only at its end.
        const buffer = Buffer.allocUnsafe(maxBytes + 1);
        fs.read(fd, buffer, 0, buffer.length, 0, (readError, bytesRead) => {
          // Nothing waits for the close of a file only read.
          fs.close(fd, () => undefined);
          if (readError) reject(readError);
          else resolve(bytesRead > maxBytes ? undefined : buffer.subarray(0, bytesRead));
        });
      });
    });
  }

  async has(sha256: string): Promise<boolean> {
    if (!SHA256_HEX.test(sha256)) return false;
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  async retain(sha256: string): Promise<boolean> {
    if (!SHA256_HEX.test(sha256)) return false;
    const now = new Date();
    return utimes(this.pathOf(sha256), now, now).then(
      () => true,
      () => false,
    );
  }

  async rehash(sha256: string): Promise<StoredBlob | null> {
    let stream: Readable;
    try {
      stream = await this.open(sha256);
    } catch {
      return null;
    }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { sha256: hash.digest('hex'), size };
  }

  async sweep(isReferenced: (sha256: string) => Promise<boolean>, options: { graceMs: number; now?: number }): Promise<SweepResult> {
    await this.ensureDirs();
    const now = options.now ?? Date.now();
    const old = (mtimeMs: number) => now - mtimeMs >= options.graceMs;
    const result: SweepResult = { removedBlobs: [], removedTemporary: 0, kept: 0 };
    for (const name of await readdir(this.tmpDir())) {
      const file = path.join(this.tmpDir(), name);
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile() && old(info.mtimeMs)) {
        await rm(file, { force: true });
        result.removedTemporary += 1;
      }
    }
    for await (const sha256 of this.blobNames()) {
      const file = this.pathOf(sha256);
      const info = await stat(file).catch(() => undefined);
      if (!info || !old(info.mtimeMs) || (await isReferenced(sha256))) {
        result.kept += 1;
        continue;
      }
      // Move aside first, then look again: a put of the same content may have renamed a
      // fresh file into place between the stat and the move; such a file goes back.
      const aside = path.join(this.tmpDir(), `${randomUUID()}.sweep`);
      if (
        !(await rename(file, aside).then(
          () => true,
          () => false,
        ))
      )
        continue;
      const moved = await stat(aside).catch(() => undefined);
      if (moved && !old(moved.mtimeMs)) {
        await rename(aside, file);
        result.kept += 1;
        continue;
      }
      await rm(aside, { force: true });
      result.removedBlobs.push(sha256);
    }
    return result;
  }

  private async *blobNames(): AsyncGenerator<string> {
    const root = path.join(this.root, 'sha256');
    const level = async (dir: string) => readdir(dir).catch(() => [] as string[]);
    for (const first of await level(root)) {
      for (const second of await level(path.join(root, first))) {
        for (const name of await level(path.join(root, first, second))) {
          if (SHA256_HEX.test(name) && name.startsWith(first + second)) yield name;
        }
      }
    }
  }
}

/** Makes a rename durable (best effort where directories cannot be fsynced). */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms refuse fsync on directories; the file itself is already synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** A file-system operation of the store failed (disk full, read-only, permissions, I/O error). */
function unavailableOnFailure<T>(operation: Promise<T>): Promise<T> {
  return operation.catch((error: unknown) => {
    throw new BlobStoreUnavailableError(error);
  });
}
