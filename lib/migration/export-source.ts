import type { JsonObject } from '../evidence/canonical-json';

/** The tenant's facts and the snapshots in force, with the canonical content each id hashes. */
export interface TenantState {
  tenant: JsonObject & { id: string; jurisdiction: string; classification_ceiling: string; status: string };
  authority: { snapshotId: string; content: string } | null;
  policy: { snapshotId: string; content: string } | null;
}

/** One stored version of an object: its place, its bytes' address and its governance metadata. */
export interface ObjectVersionRecord {
  bucket: string;
  key: string;
  versionId: string;
  size: number;
  /** Lowercase hex SHA-256 of the bytes (the blob's address); null for a delete marker. */
  sha256: string | null;
  governance: JsonObject;
}

/** The tenant's evidence chain as a written evidence bundle (a spooled `.tar.gz`). */
export interface EvidenceBundleFile {
  path: string;
  size: number;
  chunks(): AsyncIterable<Buffer>;
  profileId: string;
  hashProfileId: string;
  chainId: string;
  headSequence: number;
  remove(): Promise<void>;
}

/**
 * What a tenant export reads. Lists come page by page and bytes as streams, so memory
 * does not grow with the tenant. Implemented by the composition root (app/migration/).
 */
export interface TenantExportSource {
  state(): Promise<TenantState>;
  workloads(): AsyncIterable<JsonObject[]>;
  buckets(): Promise<JsonObject[]>;
  objectVersions(): AsyncIterable<ObjectVersionRecord[]>;
  openObject(sha256: string): Promise<AsyncIterable<Buffer>>;
  /** State that cannot move (multipart uploads still open), as items with the reason and an alternative. */
  nonPortableState(): Promise<RefusedItem[]>;
  evidenceBundle(): Promise<EvidenceBundleFile>;
}

/** An item that cannot be exported (WS6 stateful portability limits), with its declared alternative. */
export interface RefusedItem extends JsonObject {
  item: string;
  reason_code: string;
  reason: string;
  alternative: string;
}
