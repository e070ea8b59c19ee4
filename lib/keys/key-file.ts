import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Reads a private key file, creating it on first use from `create()` atomically (mode
 * 0600, in a 0700 directory): the file is linked into place only if absent, so processes
 * starting together all end up with the one key that won.
 */
export async function readOrCreateKeyFile(file: string, create: () => Promise<unknown>): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temp, JSON.stringify(await create(), null, 2), { mode: 0o600 });
  try {
    await link(temp, file); // fails if another process created the file first
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temp, { force: true });
  }
  return readFile(file, 'utf8');
}
