/**
 * Verifies an evidence bundle offline, per `docs/evidence/verifier-responsibilities.md`
 * and the golden bundles: runs every check of docs/verify.md in a fixed order and returns
 * them all (never stops at the first failure, never throws for a bad bundle). A bundle is
 * valid when every check is ok; checks may pass with a warning (unsigned, key from the
 * bundle itself, files bound by no hash).
 */
import type { JSONWebKeySet } from 'jose';
import { BUNDLE_FILES, BundleReadError, DEFAULT_LIMITS, SIGNATURE_FILES } from './bundle';
import type { Bundle, ReadLimits } from './bundle';
import { checkManifestArtifacts, checkUnreferenced } from './check-artifacts';
import {
  checkFileDigests,
  checkHashMethods,
  checkLayout,
  checkManifestFields,
  checkProfileDeclarations,
  checkScopeDeclarations,
  checkSegmentRef,
} from './check-documents';
import { checkEvents } from './check-events';
import type { EventPass } from './check-events';
import { checkDeclaredHashes, checkScope } from './check-hashes';
import { checkSignature } from './check-signature';
import { loadDocuments } from './read-documents';
import type { BundleDocuments } from './read-documents';
import { Findings } from './findings';
import type { BundleCheck } from './findings';
import { ArtifactIndex } from './pointers';
import { readBundle } from './read-bundle';

export type { BundleCheck } from './findings';

export interface VerifyOptions {
  /** Trusted public keys for the manifest signature (instead of the bundle's jwks.json). */
  jwks?: JSONWebKeySet;
  /** Fail, instead of warn, when some file is bound by no hash or signature. @default false */
  requireFullCoverage?: boolean;
  limits?: Partial<ReadLimits>;
}

export interface VerifyResult {
  ok: boolean;
  checks: BundleCheck[];
  /** Number of events checked. */
  events: number;
}

/**
 * Every file must be bound by something checked: a digest, a pointer, the event hashes, or
 * the signature. A signed bundle (or `requireFullCoverage`) fails otherwise; an unsigned
 * one, like the golden bundles, passes with a warning naming the loose files.
 */
function coverage(bundle: Bundle, covered: Set<string>, signed: boolean, options: VerifyOptions): BundleCheck {
  const loose = [...bundle.files.keys()].filter((name) => !covered.has(name));
  if (loose.length === 0)
    return { name: 'coverage', ok: true, detail: `every file is bound by a hash or the signature (${bundle.files.size} files)` };
  const detail = `bound by no hash or signature: ${loose.join(', ')} (only their cross-checked fields are verified)`;
  return signed || options.requireFullCoverage
    ? { name: 'coverage', ok: false, detail }
    : { name: 'coverage', ok: true, detail, warning: true };
}

function summary(pass: EventPass, documents: BundleDocuments): Record<string, string> {
  const merkle = documents.manifest?.merkle_root !== undefined || documents.segment?.merkle_root !== undefined;
  return {
    files: 'required files present, nothing unexpected',
    'manifest-fields': 'every export-schema field present',
    'profile-id': 'one evidence_profile_id throughout',
    'self-description': 'profile_version, producer_identity, verifier_expectations_ref agree',
    'hash-methods': 'declared methods are supported',
    scope: `events ${String(pass.firstSequence)}..${String(pass.lastSequence)} of ${String(pass.chainId)} as declared`,
    tenant: 'one tenant throughout',
    'event-hashes': `${pass.count} events in canonical form with matching event_hash`,
    'chain-continuity': 'sequence and prev_hash continuous from the segment start',
    segment: 'chain-segment.json lists exactly these events',
    'segment-hash': 'segment_hash recomputed',
    'bundle-hash': 'bundle_hash recomputed',
    'merkle-root': merkle ? 'RFC 9162 merkle_root recomputed' : 'no merkle_root declared (optional)',
    'chain-segment-ref': 'chain_segment_ref is the hash of chain-segment.json',
    'file-digests':
      documents.manifest?.file_digests !== undefined ? 'every file_digests entry matches' : 'no file_digests declared (optional)',
    envelope: "every event carries its profile's envelope fields",
    refusals: `${pass.refused} refused events carry their refusal fields`,
    'evidence-pointers': 'every pointer resolves to an artifact with that hash',
    'ncp-artifacts': `${pass.ncpDeclarations} NCP declarations reference matching artifacts`,
  };
}

/** Verifies a bundle already read; a failure to read a file mid-way is a failed `readable` check. */
export async function verifyBundle(bundle: Bundle, options: VerifyOptions = {}): Promise<VerifyResult> {
  try {
    return await runChecks(bundle, options);
  } catch (error) {
    return unreadable(error);
  }
}

function unreadable(error: unknown): VerifyResult {
  const detail = error instanceof BundleReadError ? error.message : `cannot be checked: ${(error as Error).message}`;
  return { ok: false, checks: [{ name: 'readable', ok: false, detail }], events: 0 };
}

async function runChecks(bundle: Bundle, options: VerifyOptions): Promise<VerifyResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const findings = new Findings();
  checkLayout(bundle, findings);
  const documents = await loadDocuments(bundle, findings);
  checkManifestFields(documents, findings);
  checkProfileDeclarations(documents, findings);
  checkHashMethods(documents, findings);
  checkScopeDeclarations(documents, findings);
  const artifacts = await ArtifactIndex.build(bundle);
  const pass = await checkEvents(bundle, documents, artifacts, findings, limits);
  checkDeclaredHashes(documents, pass, findings);
  checkScope(documents, pass, findings);
  const covered = new Set<string>([BUNDLE_FILES.events]);
  if (checkSegmentRef(documents, findings)) covered.add(BUNDLE_FILES.segment);
  for (const name of await checkFileDigests(bundle, documents, findings)) covered.add(name);
  checkManifestArtifacts(documents, artifacts, findings);
  checkUnreferenced(artifacts, findings);
  for (const name of artifacts.referenced) covered.add(name);
  const signature = await checkSignature(bundle, documents, findings, options.jwks);
  for (const name of signature.covered) covered.add(name);
  const signed = SIGNATURE_FILES.some((name) => bundle.files.has(name));
  const checks = [
    ...Object.entries(summary(pass, documents)).map(([name, detail]) => findings.check(name, detail)),
    findings.check('signature', signature.detail),
    coverage(bundle, covered, signed, options),
  ];
  return { ok: checks.every((check) => check.ok), checks, events: pass.count };
}

/** Reads and verifies; an unreadable bundle is one failed `readable` check, not an exception. */
export async function verifyBundlePath(source: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  try {
    return await verifyBundle(await readBundle(source, options.limits), options);
  } catch (error) {
    return unreadable(error);
  }
}
