/**
 * The Core10-10 manifest of a tenant export package: what the package holds, each item's
 * SHA-256, the governance metadata of the items it applies to, and the snapshots in force.
 * Rendered like an evidence bundle's manifest (RFC 8785 order, two-space indentation, final
 * newline) and signed with a detached compact JWS (EdDSA) by the service's signing key.
 */
import type { JsonObject } from '../evidence/canonical-json';

export const PACKAGE_VERSION = '1.0';

/** `typ` of the package manifest's signature: not a bundle manifest, so never mistaken for one. */
export const PACKAGE_SIGNATURE_TYP = 'ecs-migration-manifest+jws';

/** Files of every package that describe the rest (not listed under `contents`). */
export const PACKAGE_FILES = { manifest: 'manifest.json', signature: 'manifest.sig', jwks: 'jwks.json' } as const;

export const MIGRATION_SCENARIOS = ['full', 'data-only', 'evidence-only'] as const;
/** WS6 scenarios: the whole tenant, its governed data, or its evidence alone. */
export type MigrationScenario = (typeof MIGRATION_SCENARIOS)[number];

export function isMigrationScenario(value: unknown): value is MigrationScenario {
  return typeof value === 'string' && (MIGRATION_SCENARIOS as readonly string[]).includes(value);
}

/** What one package item is (Core10-10's list, plus the snapshots and the DEP manifest). */
export type ContentType =
  | 'config'
  | 'workload_definition'
  | 'data_snapshot'
  | 'authority_snapshot'
  | 'policy_snapshot'
  | 'evidence_chain_segment'
  | 'dependency_manifest'
  | 'sbom';

export interface ContentEntry extends JsonObject {
  type: ContentType;
  path: string;
  /** `sha256:<hex>` of the exact bytes of the file at `path`. */
  integrity_hash: string;
  size: number;
}

/** A content entry with the governance metadata of the item (objects, buckets, workloads). */
export type PackageContent = ContentEntry & { governance_metadata?: JsonObject };

/** Every manifest field but the contents and signatures, which the writer fills in. */
export interface ManifestHead extends JsonObject {
  version: string;
  created: string;
  source_provider: string;
  tenant_id: string;
  scenario: MigrationScenario;
  evidence_profile_id: string;
  hash_profile_id: string;
  /** The chain range of the nested evidence bundle (WS6: export manifests declare it). */
  evidence_range: { chain_id: string; from_sequence: number; to_sequence: number };
  /** The tenant's own: jurisdiction and classification ceiling. */
  governance_metadata: JsonObject;
  authority_snapshot_id: string | null;
  policy_snapshot_id: string | null;
  /** Items that could not be exported, each with its declared alternative (also in the DEP manifest). */
  refused_items: JsonObject[];
}

export interface PackageManifest extends ManifestHead {
  contents: PackageContent[];
  signatures: Array<{ key_id: string; alg: 'EdDSA'; signature_ref: string }>;
}
