import { EcsError, ErrorCode } from '../../../lib/errors';
import type { LedgerTransaction } from '../../../lib/evidence/ledger';

/**
 * Holds the bucket row (FOR SHARE) for the rest of `tx`, refusing when the bucket is gone. A
 * write checks its bucket when the request arrives and commits after the body is stored; a
 * bucket deleted in between (the deletion locks the row FOR UPDATE and counts the contents)
 * makes the write's commit fail here instead of landing in a bucket that no longer exists.
 * Answers the bucket's versioning as it stands while held (versioning can be enabled after the
 * write began; the enabling locks the row too).
 */
export async function holdBucket(tx: LedgerTransaction, bucket: string, tenantId: string): Promise<{ versioning: boolean }> {
  const rows = await tx.$queryRaw<Array<{ name: string; versioning: boolean }>>`
    SELECT name, versioning FROM data_buckets WHERE name = ${bucket} AND tenant_id = ${tenantId} FOR SHARE`;
  if (rows.length === 0) throw bucketGone(bucket);
  return { versioning: rows[0]!.versioning };
}

/** The refusal of a write whose bucket was deleted while it was in progress. */
export function bucketGone(bucket: string): EcsError {
  return new EcsError(ErrorCode.NotFound, `bucket ${bucket} not found: it was deleted while the write was in progress`, {
    field: 'bucket',
  });
}
