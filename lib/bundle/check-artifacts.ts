/**
 * Artifact checks beside the event pass: every reference the manifest lists under
 * `artifacts` must resolve to a file under `artifacts/` with that SHA-256 (matched when the
 * artifact index is joined, artifact-index.ts, which also refuses an artifact file that
 * nothing references: it is bound by nothing).
 */
import { isObject } from './read-documents';
import type { BundleDocuments } from './read-documents';
import { STEP } from './findings';
import type { Findings } from './findings';
import { pointerDigest } from './pointers';
import type { ArtifactIndex } from './artifact-index';

export function checkManifestArtifacts({ manifest }: BundleDocuments, artifacts: ArtifactIndex, findings: Findings): void {
  const categories = manifest?.artifacts;
  if (!isObject(categories)) return;
  let position = 0;
  for (const [category, refs] of Object.entries(categories)) {
    if (!Array.isArray(refs)) continue;
    for (const ref of refs) {
      const key = [STEP.manifestArtifacts, position++];
      const digest = pointerDigest(ref);
      if (!digest)
        findings.fail(
          'evidence-pointers',
          `artifacts.${category}: ${String(ref)} is not content-addressed (eosc://artifact/sha256:<hex>)`,
          key,
        );
      else
        artifacts.addReference(digest, {
          check: 'evidence-pointers',
          key,
          message: `artifacts.${category}: no artifact matches ${String(ref)}`,
        });
    }
  }
}
