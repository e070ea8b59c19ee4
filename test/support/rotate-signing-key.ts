import { readFile, rename, writeFile } from 'node:fs/promises';
import { createSigningKey, loadSigningKeys } from '../../lib/keys/signing-keys';
import type { StoredSigningKey } from '../../lib/keys/signing-keys';

/** Appends a new key to the key file (it becomes the signing key); older keys stay for verification. */
export async function rotateSigningKey(file: string): Promise<string> {
  // Creates the file on first use, as a starting service would.
  await loadSigningKeys(file);
  const keys = JSON.parse(await readFile(file, 'utf8')) as StoredSigningKey[];
  const next = await createSigningKey();
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify([...keys, next], null, 2), { mode: 0o600 });
  await rename(temp, file);
  return next.kid;
}
