import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import type { ExportPackageInput, ExportedPackage } from '../../lib/migration/export-package';
import { exportPackage } from '../../lib/migration/export-package';

export interface PackageFile extends ExportedPackage {
  /** `sha256:<hex>` of the whole `.tar.gz`. */
  digest: string;
  size: number;
}

/**
 * Writes a package to `file` through `<file>.partial`, renamed once complete and flushed, so
 * a file at `file` is always a whole package; measures the archive's size and digest on the way.
 */
export async function writePackageFile(file: string, input: ExportPackageInput): Promise<PackageFile> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const out = createWriteStream(partial);
  const closed = once(out, 'close');
  measure.pipe(out);
  try {
    const exported = await exportPackage(input, measure);
    await closed;
    await rename(partial, file);
    return { ...exported, digest: `sha256:${hash.digest('hex')}`, size };
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}
