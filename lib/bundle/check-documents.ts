/**
 * Checks that need only the bundle's JSON documents: layout, manifest fields, the one
 * evidence profile and self-description across manifest / verifier inputs / profile claim,
 * declared hash methods, and the digests that bind whole files (chain_segment_ref,
 * file_digests). Reports to `Findings`; the names are those of docs/verify.md.
 */
import { ARTIFACTS_DIR, BUNDLE_FILES, SIGNATURE_FILES } from './bundle';
import { int, isObject, list, obj, sameJson, str } from './read-documents';
import type { BundleDocuments } from './read-documents';
import { STEP } from './findings';
import type { Findings, OrderKey } from './findings';
import { EVENT_HASH_METHOD, JOINED_HASH_METHOD, SEGMENT_REF_PREFIX, isKnownMethod } from './hash-methods';
import { profileRules } from './profiles';

const REQUIRED_FILES = [
  BUNDLE_FILES.manifest,
  BUNDLE_FILES.segment,
  BUNDLE_FILES.events,
  BUNDLE_FILES.verifierInputs,
  BUNDLE_FILES.profileClaim,
];
const KNOWN_FILES = new Set<string>([...REQUIRED_FILES, BUNDLE_FILES.jwks, ...SIGNATURE_FILES]);

const MANIFEST_STRINGS = [
  'schema_version',
  'export_id',
  'created_at',
  'provider_id',
  'tenant_id',
  'evidence_profile_id',
  'profile_version',
  'verifier_expectations_ref',
  'chain_id',
  'chain_segment_ref',
  'bundle_hash',
];
const SUPPORTED_SCHEMA_VERSIONS = new Set(['1.0']);

/** A file of the layout: a known document or a file directly under `artifacts/`. */
export function isLayoutFile(name: string): boolean {
  return KNOWN_FILES.has(name) || (name.startsWith(ARTIFACTS_DIR) && !name.slice(ARTIFACTS_DIR.length).includes('/'));
}

/** A file outside the layout, reported where it stands in the bundle (`key`). */
export function checkLayoutFile(name: string, key: OrderKey, findings: Findings): void {
  if (!isLayoutFile(name)) findings.fail('files', `unexpected file ${name}`, [STEP.layout, 1, ...key]);
}

/** Required files missing, once every file has been seen. */
export function checkRequiredFiles(present: ReadonlySet<string>, findings: Findings): void {
  for (const [index, file] of REQUIRED_FILES.entries()) {
    if (!present.has(file)) findings.fail('files', `${file} is missing`, [STEP.layout, 0, index]);
  }
}

export function checkManifestFields({ manifest }: BundleDocuments, findings: Findings): void {
  if (!manifest) return findings.fail('manifest-fields', 'no manifest');
  for (const key of MANIFEST_STRINGS) {
    if (!str(manifest, key)) findings.fail('manifest-fields', `${key} is missing or not a string`);
  }
  const version = str(manifest, 'schema_version');
  if (version && !SUPPORTED_SCHEMA_VERSIONS.has(version)) findings.fail('manifest-fields', `schema_version ${version} is not supported`);
  const producer = obj(manifest, 'producer_identity');
  if (!str(producer, 'issuer_id') || !str(producer, 'producer_id')) {
    findings.fail('manifest-fields', 'producer_identity needs issuer_id and producer_id');
  }
  const scope = obj(manifest, 'scope');
  const from = int(scope, 'from_sequence');
  const to = int(scope, 'to_sequence');
  if (from === undefined || to === undefined || from < 1 || to < from) {
    findings.fail('manifest-fields', 'scope needs integer from_sequence <= to_sequence');
  }
  const artifacts = manifest.artifacts;
  if (
    !isObject(artifacts) ||
    !Object.values(artifacts).every((refs) => Array.isArray(refs) && refs.every((ref) => typeof ref === 'string'))
  ) {
    findings.fail('manifest-fields', 'artifacts must map categories to lists of references');
  }
  const profileId = str(manifest, 'evidence_profile_id');
  const rules = profileRules(profileId);
  if (profileId && !rules) findings.fail('manifest-fields', `evidence_profile_id ${profileId} is not a known profile`);
  const hashProfile = manifest.hash_profile_id;
  if (rules?.hashProfile && hashProfile !== rules.hashProfile) {
    findings.fail('manifest-fields', `profile ${profileId} requires hash_profile_id ${rules.hashProfile}`);
  } else if (hashProfile !== undefined && hashProfile !== null && typeof hashProfile !== 'string') {
    findings.fail('manifest-fields', 'hash_profile_id must be a string');
  }
}

export function checkProfileDeclarations({ manifest, verifierInputs, profileClaim, segment }: BundleDocuments, findings: Findings): void {
  const declared = str(manifest, 'evidence_profile_id');
  const others: Array<[string, unknown]> = [
    ['verifier-inputs.json', verifierInputs?.evidence_profile_id],
    ['profile-claim.json', profileClaim?.evidence_profile_id],
    ['profile-claim.json implements.default_evidence_profile', obj(profileClaim, 'implements')?.default_evidence_profile],
    ['chain-segment.json', segment?.evidence_profile_id],
  ];
  for (const [where, value] of others) {
    if (value !== declared)
      findings.fail('profile-id', `${where} declares ${JSON.stringify(value)}, the manifest ${JSON.stringify(declared)}`);
  }
  const implemented = list(obj(profileClaim, 'implements'), 'evidence_profiles');
  if (!implemented?.includes(declared ?? ''))
    findings.fail('profile-id', 'profile-claim.json does not list the profile under implements.evidence_profiles');

  for (const key of ['profile_version', 'producer_identity', 'verifier_expectations_ref']) {
    for (const [where, document] of [
      ['verifier-inputs.json', verifierInputs],
      ['profile-claim.json', profileClaim],
    ] as const) {
      if (!sameJson(document?.[key], manifest?.[key])) findings.fail('self-description', `${where} ${key} differs from the manifest`);
    }
  }
  if (!sameJson(verifierInputs?.hash_profile_id ?? null, manifest?.hash_profile_id ?? null)) {
    findings.fail('self-description', 'verifier-inputs.json hash_profile_id differs from the manifest');
  }
}

export function checkHashMethods({ verifierInputs }: BundleDocuments, findings: Findings): void {
  const eventMethod = verifierInputs?.event_hash_method ?? EVENT_HASH_METHOD;
  if (eventMethod !== EVENT_HASH_METHOD) findings.fail('hash-methods', `unsupported event_hash_method ${JSON.stringify(eventMethod)}`);
  for (const key of ['segment_hash_method', 'bundle_hash_method', 'merkle_root_method']) {
    const method = verifierInputs?.[key];
    if (method !== undefined && !isKnownMethod(method)) findings.fail('hash-methods', `unsupported ${key} ${JSON.stringify(method)}`);
  }
}

/** The declared method for a hash, the golden bundles' by default. */
export function declaredMethod({ verifierInputs }: BundleDocuments, key: 'segment_hash_method' | 'bundle_hash_method'): string {
  const method = verifierInputs?.[key];
  return typeof method === 'string' ? method : JOINED_HASH_METHOD;
}

export function checkScopeDeclarations({ manifest, verifierInputs, segment }: BundleDocuments, findings: Findings): void {
  const scope = obj(manifest, 'scope');
  const pairs: Array<[string, unknown, unknown]> = [
    ['verifier-inputs.json from_sequence', verifierInputs?.from_sequence, scope?.from_sequence],
    ['verifier-inputs.json to_sequence', verifierInputs?.to_sequence, scope?.to_sequence],
    ['chain-segment.json from_sequence', segment?.from_sequence, scope?.from_sequence],
    ['chain-segment.json to_sequence', segment?.to_sequence, scope?.to_sequence],
    ['verifier-inputs.json chain_id', verifierInputs?.chain_id, manifest?.chain_id],
  ];
  for (const [where, value, expected] of pairs) {
    if (value !== expected) findings.fail('scope', `${where} is ${JSON.stringify(value)}, the manifest says ${JSON.stringify(expected)}`);
  }
  if (segment?.tenant_id !== manifest?.tenant_id) findings.fail('tenant', 'chain-segment.json tenant_id differs from the manifest');
}

/** chain_segment_ref (manifest and verifier inputs) = SHA-256 of chain-segment.json's bytes. */
export function checkSegmentRef({ manifest, verifierInputs, segmentDigest }: BundleDocuments, findings: Findings): boolean {
  const ref = str(manifest, 'chain_segment_ref');
  if (!ref || !segmentDigest) {
    findings.fail('chain-segment-ref', 'no chain_segment_ref or no chain-segment.json');
    return false;
  }
  const expected = `${SEGMENT_REF_PREFIX}${segmentDigest}`;
  if (ref !== expected)
    findings.fail('chain-segment-ref', `manifest chain_segment_ref is not the hash of chain-segment.json (${expected})`);
  if (verifierInputs?.chain_segment_ref !== ref)
    findings.fail('chain-segment-ref', 'verifier-inputs.json chain_segment_ref differs from the manifest');
  return true;
}

/** The names manifest.file_digests lists (to know which artifact files' digests to keep). */
export function fileDigestNames({ manifest }: BundleDocuments): Set<string> {
  const digests = manifest?.file_digests;
  return new Set(isObject(digests) ? Object.keys(digests) : []);
}

/**
 * manifest.file_digests: `{ "<file>": "sha256:<hex>" }` over exact bytes, given the digest
 * of each file present (`digestOf`); returns the files it binds.
 */
export function checkFileDigests(
  { manifest }: BundleDocuments,
  digestOf: (name: string) => string | undefined,
  findings: Findings,
): string[] {
  const digests = manifest?.file_digests;
  if (digests === undefined) return [];
  if (!isObject(digests)) {
    findings.fail('file-digests', 'file_digests must be an object');
    return [];
  }
  const bound: string[] = [];
  for (const [name, digest] of Object.entries(digests)) {
    const actual = digestOf(name);
    if (name === BUNDLE_FILES.manifest || (SIGNATURE_FILES as readonly string[]).includes(name)) {
      findings.fail('file-digests', `${name} cannot be bound by the manifest`);
    } else if (actual === undefined) {
      findings.fail('file-digests', `${name} is listed but missing`);
    } else if (digest !== actual) {
      findings.fail('file-digests', `${name} does not match its digest`);
    } else {
      bound.push(name);
    }
  }
  return bound;
}
