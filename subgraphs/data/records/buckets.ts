import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import { Prisma } from '../../../prisma/generated/client';
import type { Bucket } from '../../../prisma/generated/client';

export type { Bucket };

/** Buckets by name, for `_entities` batches: one query per batch, in the order asked. */
export async function getBucketsByNames({ db, names }: { db: Database; names: readonly string[] }): Promise<Array<Bucket | null>> {
  const rows = await db.prisma.bucket.findMany({ where: { name: { in: [...names] } } });
  const byName = new Map(rows.map((row) => [row.name, row]));
  return names.map((name) => byName.get(name) ?? null);
}

/** Buckets of several tenants in one query, by name. */
export async function findBucketsOfTenants({ db, tenantIds }: { db: Database; tenantIds: readonly string[] }): Promise<Bucket[][]> {
  const rows = await db.prisma.bucket.findMany({
    where: { tenantId: { in: [...tenantIds] } },
    orderBy: { name: 'asc' },
  });
  return tenantIds.map((tenantId) => rows.filter((row) => row.tenantId === tenantId));
}

export interface CreateBucketData {
  name: string;
  tenantId: string;
  jurisdiction: string;
  defaultClassification: string;
  versioning: boolean;
  lockMode: 'compliance' | 'governance';
  defaultRetention: string | null;
}

/** Creates a bucket and its `storage.bucket.create` evidence in one transaction. */
export async function createBucket({
  db,
  data,
  actor,
  correlationId,
  authoritySnapshotId,
}: {
  db: Database;
  data: CreateBucketData;
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
}): Promise<Bucket> {
  try {
    return await evidenceTransaction(db, data.tenantId, async (tx) => {
      const bucket = await tx.bucket.create({ data });
      await appendEvidence(tx, {
        tenantId: bucket.tenantId,
        eventType: 'storage.bucket.create',
        actor,
        outcome: 'accepted',
        correlationId,
        authoritySnapshotId,
        details: {
          action: 'storage.bucket.create',
          bucket: bucket.name,
          jurisdiction: bucket.jurisdiction,
          default_classification: bucket.defaultClassification,
          versioning: bucket.versioning,
          lock_mode: bucket.lockMode,
          default_retention: bucket.defaultRetention,
        },
      });
      return bucket;
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new EcsError(ErrorCode.Conflict, `bucket ${data.name} already exists`, { field: 'name' });
    }
    throw error;
  }
}
