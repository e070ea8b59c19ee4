/**
 * The content of a file of a bundle directory, read as a stream without following a
 * symbolic link; its size must not have changed since the directory was walked.
 */
import { constants, createReadStream, openSync } from 'node:fs';
import { BundleReadError } from './bundle';

/** Pieces files are read in. */
const CHUNK_BYTES = 64 * 1024;
/** Never blocks on a special file that replaced a regular one after the walk (it is refused). */
export const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export function readError(name: string, error: unknown): BundleReadError {
  if (error instanceof BundleReadError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new BundleReadError(code === 'ELOOP' ? `${name} is a symbolic link` : `cannot read ${name}: ${code ?? String(error)}`);
}

export async function* diskFileChunks(name: string, file: string, size: number): AsyncGenerator<Buffer> {
  let read = 0;
  try {
    const fd = openSync(file, OPEN_FLAGS);
    for await (const chunk of createReadStream('', { fd, highWaterMark: CHUNK_BYTES })) {
      read += (chunk as Buffer).length;
      if (read > size) break;
      yield chunk as Buffer;
    }
  } catch (error) {
    throw readError(name, error);
  }
  if (read !== size) throw new BundleReadError(`${name} changed while it was read`);
}
