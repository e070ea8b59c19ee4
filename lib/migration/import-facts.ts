import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { JsonObject } from '../evidence/canonical-json';
import type { PackageManifest } from './package-manifest';

/** Package items the import keeps while it verifies them, for its gates to read. */
export const KEPT_ITEMS =
  /^(tenant\.json|snapshots\/(authority-binding|policy-baseline)\.json|evidence\/bundle\.tar\.gz|(buckets|workloads)\/[^/]+\.json)$/;

export const NESTED_BUNDLE = 'evidence/bundle.tar.gz';

/** What the gates read of a package: its manifest and the small items kept (`KEPT_ITEMS`). */
export interface ImportedFacts {
  manifest: PackageManifest;
  tenant: JsonObject | undefined;
  authoritySnapshot: JsonObject | undefined;
  policySnapshot: JsonObject | undefined;
  buckets: JsonObject[];
  workloads: JsonObject[];
}

async function json(file: string): Promise<JsonObject | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as JsonObject;
  } catch {
    return undefined;
  }
}

async function jsonFiles(dir: string): Promise<JsonObject[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const documents: JsonObject[] = [];
  for (const name of names.sort()) {
    const document = await json(path.join(dir, name));
    if (document) documents.push(document);
  }
  return documents;
}

/** Reads the kept items from `dir` (where verifyPackage wrote them). Bucket and workload lists are held: about 300 bytes each. */
export async function readImportedFacts(dir: string, manifest: PackageManifest): Promise<ImportedFacts> {
  return {
    manifest,
    tenant: await json(path.join(dir, 'tenant.json')),
    authoritySnapshot: await json(path.join(dir, 'snapshots', 'authority-binding.json')),
    policySnapshot: await json(path.join(dir, 'snapshots', 'policy-baseline.json')),
    buckets: await jsonFiles(path.join(dir, 'buckets')),
    workloads: await jsonFiles(path.join(dir, 'workloads')),
  };
}
