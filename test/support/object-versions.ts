// Buckets and new versions for tests that write object versions straight through the data
// plane's records (putVersion), without the HTTP layer.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../../lib/db/database';
import type { NewVersion, StorageEvidence } from '../../subgraphs/data/records/objects';

/** A bucket of `tenantId` with versioning on or off; answers its name. */
export async function createBucket(db: Database, tenantId: string, versioning: boolean): Promise<string> {
  const name = `b-${randomUUID().slice(0, 8)}`;
  await db.query(
    'INSERT INTO data_buckets (name, tenant_id, jurisdiction, default_classification, versioning) VALUES ($1, $2, $3, $4, $5)',
    [name, tenantId, 'DE', 'internal', versioning],
  );
  return name;
}

/** A new 1 KB version of `key` as the PUT handler describes one, with `overrides`. */
export function newVersion(bucket: string, key: string, tenantId: string, overrides: Partial<NewVersion> = {}): NewVersion {
  const sha256 = randomBytes(32).toString('hex');
  return {
    bucket,
    key,
    tenantId,
    versioned: false,
    sha256,
    s3Etag: randomBytes(16).toString('hex'),
    size: 1024,
    contentType: 'application/octet-stream',
    jurisdiction: 'DE',
    retentionTtl: 'P0D',
    retentionUntil: new Date(Date.now() - 1000),
    classification: 'internal',
    integrity: `sha256:${sha256}`,
    evidencePointer: `eosc://evidence/client/${randomUUID()}`,
    dataProductId: 'dp-1',
    usagePolicySnapshotId: 'ups-1',
    consentTokenRef: 'consent-1',
    legalHold: false,
    userMetadata: '{"owner":"team-a"}',
    bucketLockMode: 'compliance',
    origin: 'put',
    ...overrides,
  };
}

export const evidence: StorageEvidence = {
  actor: 'spiffe://ecs.example.eu/tenant/t/sa/writer',
  correlationId: 'corr-1',
  authoritySnapshotId: 'auth-1',
  policySnapshotId: 'pol-1',
};
