import type { Readable } from 'node:stream';
import type { Caller } from '../auth/caller';
import type { JsonObject } from '../evidence/canonical-json';

export type MigrationExportState = 'queued' | 'running' | 'completed' | 'failed';

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
}

/** Who asks, for authorization and evidence. */
export interface MigrationRequestContext {
  caller: Caller;
  correlationId: string;
}

/** Tenant export jobs (`/v1/migrations/exports`): what the REST routes call. */
export interface MigrationExports {
  /** Queues an export; refuses (with evidence) a caller who does not administer the tenant or a scenario that cannot be exported. */
  request(context: MigrationRequestContext, input: { tenantId: string; scenario: string }): Promise<MigrationExportStatus>;
  status(context: MigrationRequestContext, id: string): Promise<MigrationExportStatus>;
  /** The package of a completed export; 409 before. */
  openPackage(context: MigrationRequestContext, id: string): Promise<{ status: MigrationExportStatus; stream: Readable }>;
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
  };
}
