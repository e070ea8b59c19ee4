/**
 * Content-addressed references inside a bundle (`eosc://evidence/sha256:<hex>`,
 * `eosc://artifact/sha256:<hex>`): they name the SHA-256 of an artifact file's exact bytes,
 * as the golden bundles do (artifact-index.ts matches them with the files).
 */

const POINTER = /^eosc:\/\/(evidence|artifact)\/sha256:([0-9a-f]{64})$/;

/** The hex digest a pointer names, or `undefined` when it is not content-addressed. */
export function pointerDigest(pointer: unknown): string | undefined {
  return typeof pointer === 'string' ? POINTER.exec(pointer)?.[2] : undefined;
}
