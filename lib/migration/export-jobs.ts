import type { Readable } from 'node:stream';
import type { Caller } from '../auth/caller';
import type { JsonObject } from '../evidence/canonical-json';

export type MigrationExportState = 'queued' | 'running' | 'completed' | 'failed';

/** The source's side of the cutover: `pending` until the export is completed here or rolled back. */
export type MigrationCutover = 'pending' | 'completed' | 'rolled_back';

/** What a tenant export id looks like (`mex-<uuid>`); anything else names no job. */
export const MIGRATION_EXPORT_ID = /^mex-[0-9a-f-]{36}$/;

/** The error of a job that was queued or running when its gateway process stopped. */
export const INTERRUPTED_EXPORT_ERROR = 'interrupted: the gateway stopped during the export';

/** A tenant export job as the API shows it. */
export interface MigrationExportStatus extends JsonObject {
  id: string;
  tenant_id: string;
  scenario: string;
  state: MigrationExportState;
  requested_at: string;
  completed_at: string | null;
  /** `sha256:<hex>` of the exact `manifest.json` (also in the completion event). */
  manifest_digest: string | null;
  /** `sha256:<hex>` of the whole `.tar.gz`. */
  package_digest: string | null;
  package_size: number | null;
  items: number | null;
  object_versions: number | null;
  refused_items: JsonObject[];
  error: string | null;
  package_url: string | null;
  cutover: MigrationCutover;
  /** Where the tenant went (the target's tenant URL), once the cutover is completed. */
  migrated_to: string | null;
  /** When the cutover was completed or rolled back. */
  cutover_at: string | null;
  /** The `migration.complete` or `migration.rollback` event. */
  cutover_evidence_pointer: string | null;
}

/** Who asks, for authorization and evidence. */
export interface MigrationRequestContext {
  caller: Caller;
  correlationId: string;
}

/** A package being handed over: its bytes, and how the hand-over is evidenced once it ends. */
export interface OpenedPackage {
  status: MigrationExportStatus;
  stream: Readable;
  /**
   * Records `migration.export.transfer` (accepted when every byte was sent, failed when the
   * transfer broke off): the transfer phase of the migration, on the source.
   */
  transferred(bytesSent: number, complete: boolean): Promise<void>;
}

/** Tenant export jobs (`/v1/migrations/exports`): what the REST routes call. */
export interface MigrationExports {
  /** Queues an export; refuses (with evidence) a caller who does not administer the tenant or a scenario that cannot be exported. */
  request(context: MigrationRequestContext, input: { tenantId: string; scenario: string }): Promise<MigrationExportStatus>;
  status(context: MigrationRequestContext, id: string): Promise<MigrationExportStatus>;
  /** The package of a completed export; 409 before, and once the export is rolled back. */
  openPackage(context: MigrationRequestContext, id: string): Promise<OpenedPackage>;
  /**
   * Completes the cutover on the source: the tenant becomes `migrated` (read-only here,
   * pointing at `migratedTo`). Idempotent; 409 unless the export is completed and not rolled back.
   */
  complete(context: MigrationRequestContext, id: string, input: { migratedTo: string }): Promise<MigrationExportStatus>;
  /** Abandons the migration on the source before completion: evidenced, the package removed. Idempotent; 409 once completed. */
  rollback(context: MigrationRequestContext, id: string, input: { reason?: string }): Promise<MigrationExportStatus>;
  /** Waits for running jobs to end (the process is stopping). */
  stop(): Promise<void>;
}

/** The status of a job just queued. */
export function queuedStatus({ id, tenantId, scenario }: { id: string; tenantId: string; scenario: string }): MigrationExportStatus {
  return {
    id,
    tenant_id: tenantId,
    scenario,
    state: 'queued',
    requested_at: new Date().toISOString(),
    completed_at: null,
    manifest_digest: null,
    package_digest: null,
    package_size: null,
    items: null,
    object_versions: null,
    refused_items: [],
    error: null,
    package_url: null,
    cutover: 'pending',
    migrated_to: null,
    cutover_at: null,
    cutover_evidence_pointer: null,
  };
}
