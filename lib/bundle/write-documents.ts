/**
 * The small JSON documents of a written bundle (manifest, verifier inputs, profile claim),
 * built from what the event pass learned, with every field the export schema lists.
 */
import type { JsonObject } from '../evidence/canonical-json';
import { EVENT_HASH_METHOD, JOINED_HASH_METHOD, MERKLE_ROOT_METHOD } from './hash-methods';

export const HASH_PROFILE_ID = 'ecs-hash-v1';
export const PROFILE_VERSION = '1.0';
export const VERIFIER_EXPECTATIONS_REF = 'docs/evidence/verifier-responsibilities.md';

export interface Producer {
  /** Who issues the evidence (the provider). */
  issuerId: string;
  /** The exporting software. */
  producerId: string;
}

/** What the event pass learned about the segment. */
export interface SegmentFacts {
  tenantId: string;
  chainId: string;
  fromSequence: number;
  toSequence: number;
  bundleHash: string;
  merkleRoot: string;
  chainSegmentRef: string;
}

function selfDescription(profileId: string, producer: Producer): JsonObject {
  return {
    evidence_profile_id: profileId,
    profile_version: PROFILE_VERSION,
    producer_identity: { issuer_id: producer.issuerId, producer_id: producer.producerId },
    verifier_expectations_ref: VERIFIER_EXPECTATIONS_REF,
  };
}

export function verifierInputs(profileId: string, producer: Producer, facts: SegmentFacts): JsonObject {
  return {
    ...selfDescription(profileId, producer),
    hash_profile_id: HASH_PROFILE_ID,
    chain_id: facts.chainId,
    from_sequence: facts.fromSequence,
    to_sequence: facts.toSequence,
    event_hash_method: EVENT_HASH_METHOD,
    segment_hash_method: JOINED_HASH_METHOD,
    bundle_hash_method: JOINED_HASH_METHOD,
    merkle_root_method: MERKLE_ROOT_METHOD,
    chain_segment_ref: facts.chainSegmentRef,
  };
}

export function profileClaim(profileId: string, producer: Producer, exportEndpoints: readonly string[]): JsonObject {
  return {
    implements: {
      evidence_profiles: [profileId],
      default_evidence_profile: profileId,
      hash_profiles: [HASH_PROFILE_ID],
      export_endpoints: [...exportEndpoints],
      verifier_inputs_supported: ['chain_id', 'prev_hash', 'event_hash', 'merkle_root'],
    },
    ...selfDescription(profileId, producer),
  };
}

/** The manifest's `artifacts`: NCP references by category (event order), then the extra categories. */
export function listManifestArtifacts(
  ncpArtifacts: ReadonlyMap<string, ReadonlySet<string>>,
  manifestArtifacts: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> {
  const listed: Record<string, string[]> = {};
  for (const [category, refs] of ncpArtifacts) listed[category] = [...refs];
  for (const [category, refs] of Object.entries(manifestArtifacts)) {
    listed[category] = [...new Set([...(listed[category] ?? []), ...refs])];
  }
  return listed;
}

export function manifest({
  profileId,
  producer,
  facts,
  exportId,
  createdAt,
  artifacts,
  fileDigests,
  signature,
}: {
  profileId: string;
  producer: Producer;
  facts: SegmentFacts;
  exportId: string;
  createdAt: string;
  artifacts: Record<string, string[]>;
  fileDigests: Record<string, string>;
  signature?: { kid: string; file: string };
}): JsonObject {
  return {
    schema_version: '1.0',
    export_id: exportId,
    created_at: createdAt,
    provider_id: producer.issuerId,
    tenant_id: facts.tenantId,
    ...selfDescription(profileId, producer),
    hash_profile_id: HASH_PROFILE_ID,
    scope: { from_sequence: facts.fromSequence, to_sequence: facts.toSequence },
    chain_id: facts.chainId,
    chain_segment_ref: facts.chainSegmentRef,
    bundle_hash: facts.bundleHash,
    merkle_root: facts.merkleRoot,
    artifacts,
    file_digests: fileDigests,
    ...(signature ? { signatures: [{ key_id: signature.kid, alg: 'EdDSA', signature_ref: signature.file }] } : {}),
  };
}
