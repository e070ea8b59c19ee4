/**
 * Checks that compare what the event pass computed with what the bundle declares:
 * segment_hash and bundle_hash (by their declared methods), the optional RFC 9162
 * merkle_root, and the scope and chain id against the events actually present.
 */
import { int, isObject, obj, str } from './read-documents';
import type { BundleDocuments } from './read-documents';
import type { EventPass } from './check-events';
import type { Findings } from './findings';
import { isKnownMethod } from './hash-methods';

export function checkDeclaredHashes({ manifest, segment, verifierInputs }: BundleDocuments, pass: EventPass, findings: Findings): void {
  if (segment && segment.algorithm !== 'sha256') findings.fail('segment', `algorithm ${JSON.stringify(segment.algorithm)} is not sha256`);
  if (segment && !Array.isArray(segment.events)) findings.fail('segment', 'chain-segment.json has no events list');

  const segmentMethod = verifierInputs?.segment_hash_method;
  if (segmentMethod !== undefined && !isKnownMethod(segmentMethod)) findings.fail('segment-hash', 'the declared method is not supported');
  else if (str(segment, 'segment_hash') !== pass.segmentHash) {
    findings.fail('segment-hash', `segment_hash is not ${pass.segmentHash ?? 'computable'}`);
  }
  const bundleMethod = verifierInputs?.bundle_hash_method;
  if (bundleMethod !== undefined && !isKnownMethod(bundleMethod)) findings.fail('bundle-hash', 'the declared method is not supported');
  else if (str(manifest, 'bundle_hash') !== pass.bundleHash) {
    findings.fail('bundle-hash', `bundle_hash is not ${pass.bundleHash ?? 'computable'}`);
  }

  const declared = [
    ['manifest.json', manifest?.merkle_root],
    ['chain-segment.json', segment?.merkle_root],
  ].filter(([, root]) => root !== undefined);
  for (const [where, root] of declared) {
    if (root !== pass.merkleRoot) findings.fail('merkle-root', `${String(where)} merkle_root is not ${pass.merkleRoot ?? 'computable'}`);
  }
}

export function checkScope({ manifest }: BundleDocuments, pass: EventPass, findings: Findings): void {
  const scope = obj(manifest, 'scope');
  if (!isObject(scope)) return findings.fail('scope', 'the manifest has no scope');
  if (int(scope, 'from_sequence') !== pass.firstSequence || int(scope, 'to_sequence') !== pass.lastSequence) {
    findings.fail(
      'scope',
      `scope ${String(scope.from_sequence)}..${String(scope.to_sequence)} but the events run ${String(pass.firstSequence)}..${String(pass.lastSequence)}`,
    );
  }
  if (str(manifest, 'chain_id') !== pass.chainId)
    findings.fail('scope', `manifest chain_id differs from the events' ${String(pass.chainId)}`);
}
