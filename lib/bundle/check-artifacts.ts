/**
 * Artifact checks after the event pass: every reference the manifest lists under
 * `artifacts` resolves to a file under `artifacts/` with that SHA-256, and no artifact file
 * is left unreferenced (an unreferenced file is bound by nothing, so it is refused).
 */
import { isObject } from './read-documents';
import type { BundleDocuments } from './read-documents';
import type { Findings } from './findings';
import { pointerDigest } from './pointers';
import type { ArtifactIndex } from './pointers';

export function checkManifestArtifacts({ manifest }: BundleDocuments, artifacts: ArtifactIndex, findings: Findings): void {
  const categories = manifest?.artifacts;
  if (!isObject(categories)) return;
  for (const [category, refs] of Object.entries(categories)) {
    if (!Array.isArray(refs)) continue;
    for (const ref of refs) {
      if (!pointerDigest(ref))
        findings.fail('evidence-pointers', `artifacts.${category}: ${String(ref)} is not content-addressed (eosc://artifact/sha256:<hex>)`);
      else if (!artifacts.resolve(ref)) findings.fail('evidence-pointers', `artifacts.${category}: no artifact matches ${String(ref)}`);
    }
  }
}

export function checkUnreferenced(artifacts: ArtifactIndex, findings: Findings): void {
  for (const name of artifacts.names) {
    if (!artifacts.referenced.has(name)) findings.fail('evidence-pointers', `${name} is referenced by nothing`);
  }
  for (const name of artifacts.duplicates) findings.fail('evidence-pointers', `${name} duplicates another artifact`);
}
