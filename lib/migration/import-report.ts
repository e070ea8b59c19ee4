import type { Readable } from 'node:stream';
import type { ErrorCode } from '../errors';
import type { JsonObject } from '../evidence/canonical-json';
import type { MigrationRequestContext } from './export-jobs';

/** The validation gates of an import, in the order they are reported. */
export const IMPORT_GATES = [
  'signature',
  'integrity',
  'evidence_bundle',
  'jurisdiction',
  'classification',
  'policy_baseline',
  'authority_binding',
  'id_clash',
] as const;
export type ImportGateName = (typeof IMPORT_GATES)[number];

/** One gate's verdict, with why. */
export interface ImportGate extends JsonObject {
  gate: ImportGateName;
  result: 'pass' | 'fail';
  reason: string;
}

/**
 * Where an import stands: `refused` at a gate (nothing kept), `validated` (the package kept;
 * materialising it, or retrying that after a crash), `imported` (the tenant exists here as
 * `importing`), `active` (activated) or `rolled_back` (discarded on this side).
 */
export type ImportStatus = 'validated' | 'refused' | 'imported' | 'active' | 'rolled_back';

/** A workload the target's policy refused at activation (it stays, as `failed`). */
export interface RefusedWorkload extends JsonObject {
  workload_id: string;
  reason_code: string;
  evidence_pointer: string;
}

/** The report of one import (`GET /v1/migrations/imports/{id}`): its validation, then each step. */
export interface ImportReport extends JsonObject {
  import_id: string;
  status: ImportStatus;
  validated_at: string;
  source_provider: string | null;
  source_tenant_id: string | null;
  source_chain_id: string | null;
  source_head_sequence: number | null;
  source_head_hash: string | null;
  package_digest: string;
  package_size: number;
  source_jwks_url: string;
  /** Where the package was pulled from (`source_url`), or null when it was uploaded. */
  source_url: string | null;
  gates: ImportGate[];
  /** The `migration.import.validate` event (platform chain). */
  evidence_pointer: string;
  /** Once imported: the tenant made here, and its `migration.import` event (its chain's link to the source's). */
  tenant_id: string | null;
  imported_at: string | null;
  import_evidence_pointer: string | null;
  counts: ImportCounts | null;
  /** Once activated: the `migration.activate` event and the workloads the target's policy refused. */
  activated_at: string | null;
  activation_evidence_pointer: string | null;
  workloads_refused: RefusedWorkload[];
  /** Once rolled back: the `migration.rollback` event. */
  rolled_back_at: string | null;
  rollback_evidence_pointer: string | null;
}

/** What an import made here. */
export interface ImportCounts extends JsonObject {
  buckets: number;
  object_versions: number;
  workloads: number;
  bytes: number;
}

/** The step fields of a report that has only been validated (or refused). */
export const NOT_IMPORTED = {
  tenant_id: null,
  imported_at: null,
  import_evidence_pointer: null,
  counts: null,
  activated_at: null,
  activation_evidence_pointer: null,
  workloads_refused: [],
  rolled_back_at: null,
  rollback_evidence_pointer: null,
} as const satisfies Partial<ImportReport>;

/** An uploaded package, streamed: the request body and the length it declared (if any). */
export interface ImportUpload {
  body: Readable;
  declaredLength: number | undefined;
  sourceJwksUrl: string;
}

/** A package to pull from its source: the package URL, a bearer token for it (never kept), the source's keys. */
export interface ImportPull {
  sourceUrl: string;
  sourceToken: string | undefined;
  sourceJwksUrl: string;
}

/** Tenant import validation (`/v1/migrations/imports`): what the REST routes call. */
export interface MigrationImports {
  /** Refuses (403, with evidence) anyone but a platform-wide administrator; call before reading the body. */
  authorize(context: MigrationRequestContext): Promise<void>;
  /** Refuses a bad request (400, 413, 415) with `migration.import.refuse` evidence; returns the error to throw. */
  refuseRequest(context: MigrationRequestContext, refusal: { code: ErrorCode; reasonCode: string; reason: string }): Promise<Error>;
  /** Stores the upload, runs every gate, evidences the outcome and answers the report. */
  validate(context: MigrationRequestContext, upload: ImportUpload): Promise<ImportReport>;
  /** Pulls the package from its source (refused with evidence, 503, when the source does not hand it over), then as `validate`. */
  pull(context: MigrationRequestContext, pull: ImportPull): Promise<ImportReport>;
  report(context: MigrationRequestContext, id: string): Promise<ImportReport>;
  /**
   * Makes the validated tenant `importing` here (a retry of a materialisation a crash cut
   * short), evaluates every imported workload under this deployment's policy (refusals
   * evidenced) and activates the tenant. Idempotent.
   */
  activate(context: MigrationRequestContext, id: string): Promise<ImportReport>;
  /** Discards the import on this side (before the tenant has acted here). Idempotent. */
  rollback(context: MigrationRequestContext, id: string, reason: string | undefined): Promise<ImportReport>;
}
