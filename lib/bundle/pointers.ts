/**
 * Content-addressed references inside a bundle (`eosc://evidence/sha256:<hex>`,
 * `eosc://artifact/sha256:<hex>`) and the index that resolves them to the files under
 * `artifacts/` by the SHA-256 of each file's exact bytes, as the golden bundles do.
 */
import { createHash } from 'node:crypto';
import { ARTIFACTS_DIR } from './bundle';
import type { Bundle } from './bundle';

const POINTER = /^eosc:\/\/(evidence|artifact)\/sha256:([0-9a-f]{64})$/;

/** The hex digest a pointer names, or `undefined` when it is not content-addressed. */
export function pointerDigest(pointer: unknown): string | undefined {
  return typeof pointer === 'string' ? POINTER.exec(pointer)?.[2] : undefined;
}

/** Artifact files by the hex SHA-256 of their bytes; records which ones were referenced. */
export class ArtifactIndex {
  private readonly byDigest = new Map<string, string>();
  readonly referenced = new Set<string>();
  /** Files whose bytes equal another artifact's (the second copy is never referenced). */
  readonly duplicates: string[] = [];

  static async build(bundle: Bundle): Promise<ArtifactIndex> {
    const index = new ArtifactIndex();
    for (const [name, file] of bundle.files) {
      if (!name.startsWith(ARTIFACTS_DIR)) continue;
      const hash = createHash('sha256');
      for await (const chunk of file.chunks()) hash.update(chunk);
      const digest = hash.digest('hex');
      if (index.byDigest.has(digest)) index.duplicates.push(name);
      else index.byDigest.set(digest, name);
    }
    return index;
  }

  get names(): string[] {
    return [...this.byDigest.values()];
  }

  /** The artifact file a pointer resolves to (marking it referenced), or `undefined`. */
  resolve(pointer: unknown): string | undefined {
    const digest = pointerDigest(pointer);
    const name = digest === undefined ? undefined : this.byDigest.get(digest);
    if (name !== undefined) this.referenced.add(name);
    return name;
  }
}
