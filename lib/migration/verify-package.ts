/**
 * Checks a tenant export package offline: the manifest's detached signature against a
 * JWKS (the source's published keys, or the package's own, which proves integrity but not
 * origin), and every listed item's size and SHA-256 against its file, read in one streaming
 * pass with the strict tar reader of lib/bundle. A file the manifest does not list, or a
 * listed one that is missing, fails the package. The import will run this before anything else.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { JSONWebKeySet } from 'jose';
import { DEFAULT_LIMITS, readEntry } from '../bundle/bundle';
import type { ReadLimits } from '../bundle/bundle';
import { readTarEntries } from '../bundle/tar-reader';
import { TempSpace } from '../bundle/temp-space';
import { parseJwks, verifyJws } from '../keys/verify-jws';
import { PACKAGE_FILES, PACKAGE_SIGNATURE_TYP } from './package-manifest';
import type { PackageManifest } from './package-manifest';

export interface PackageVerification {
  ok: boolean;
  /** One line per failed check. */
  failures: string[];
  /** Set when no JWKS was given: the package's own keys were used. */
  warning?: string;
  manifest?: PackageManifest;
  /** The `kid` that signed the manifest, when the signature verified. */
  keyId?: string;
}

const DESCRIPTIVE = new Set<string>(Object.values(PACKAGE_FILES));

export async function verifyPackage(
  file: string,
  {
    jwks,
    limits = DEFAULT_LIMITS,
    extract,
  }: {
    jwks?: JSONWebKeySet;
    limits?: ReadLimits;
    /** Where to write an item as it is hashed (the import keeps what its gates read); undefined: not kept. */
    extract?: (name: string) => string | undefined;
  } = {},
): Promise<PackageVerification> {
  const failures: string[] = [];
  const found = new Map<string, { size: number; digest: string }>();
  const documents = new Map<string, Buffer>();
  const space = new TempSpace('ecs-package-');
  try {
    for await (const entry of readTarEntries(file, limits, space)) {
      if (DESCRIPTIVE.has(entry.name)) {
        documents.set(entry.name, await readEntry(entry));
        continue;
      }
      const hash = createHash('sha256');
      let size = 0;
      const destination = extract?.(entry.name);
      if (destination) await mkdir(path.dirname(destination), { recursive: true });
      const out = destination ? createWriteStream(destination) : undefined;
      try {
        for await (const chunk of entry.chunks()) {
          hash.update(chunk);
          size += chunk.length;
          // A copy: the reader may reuse its chunk once the next is asked for.
          if (out && !out.write(Buffer.from(chunk))) await once(out, 'drain');
        }
      } finally {
        if (out) {
          out.end();
          await finished(out);
        }
      }
      found.set(entry.name, { size, digest: `sha256:${hash.digest('hex')}` });
    }
  } catch (error) {
    return { ok: false, failures: [`readable: ${(error as Error).message}`] };
  } finally {
    await space.remove();
  }

  const manifestBytes = documents.get(PACKAGE_FILES.manifest);
  if (!manifestBytes) return { ok: false, failures: ['files: no manifest.json'] };
  let manifest: PackageManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as PackageManifest;
    if (!Array.isArray(manifest.contents)) throw new Error('no contents[]');
  } catch (error) {
    return { ok: false, failures: [`manifest: ${(error as Error).message}`] };
  }

  let warning: string | undefined;
  let keyId: string | undefined;
  const signature = documents.get(PACKAGE_FILES.signature);
  try {
    let keys = jwks;
    if (!keys) {
      const own = documents.get(PACKAGE_FILES.jwks);
      if (!own) throw new Error('no JWKS given and none in the package');
      keys = parseJwks(JSON.parse(own.toString('utf8')));
      warning = "signature checked against the package's own jwks.json: integrity, not origin (pass the source's JWKS)";
    }
    if (!signature) throw new Error('no manifest.sig');
    keyId = (await verifyJws(signature.toString('utf8').trim(), { jwks: keys, typ: PACKAGE_SIGNATURE_TYP, payload: manifestBytes })).kid;
  } catch (error) {
    failures.push(`signature: ${(error as Error).message}`);
  }

  const listed = new Set<string>();
  for (const item of manifest.contents) {
    listed.add(item.path);
    const actual = found.get(item.path);
    if (!actual) failures.push(`integrity: ${item.path} is listed but not in the package`);
    else if (actual.digest !== item.integrity_hash || actual.size !== item.size)
      failures.push(`integrity: ${item.path} hashes to ${actual.digest} (${actual.size} bytes), not ${item.integrity_hash}`);
  }
  for (const name of found.keys()) if (!listed.has(name)) failures.push(`integrity: ${name} is in the package but not in the manifest`);
  return { ok: failures.length === 0, failures, manifest, ...(warning ? { warning } : {}), ...(keyId ? { keyId } : {}) };
}
