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

/** The report of one import's validation (`GET /v1/migrations/imports/{id}`). */
export interface ImportReport extends JsonObject {
  import_id: string;
  status: 'validated' | 'refused';
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
  evidence_pointer: string;
}

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
}
