import type { Database } from '../../lib/db/database';
import type { ImportTarget } from '../../lib/migration/import-gates';

/** Ids asked per round trip. */
const BATCH = 500;

async function inBatches(ids: string[], find: (batch: string[]) => Promise<string[]>): Promise<string[]> {
  const found: string[] = [];
  for (let start = 0; start < ids.length; start += BATCH) found.push(...(await find(ids.slice(start, start + BATCH))));
  return found;
}

/**
 * What this deployment holds, for the import's gates: read by the composition root, which
 * alone may see every plane's tables (read-only, like the export's source).
 */
export function importTarget(db: Database, servedJurisdictions: string[] | undefined): ImportTarget {
  return {
    servedJurisdictions,
    async policySnapshot(id) {
      const snapshot = await db.prisma.policySnapshot.findUnique({ where: { id } });
      if (!snapshot) return null;
      const baseline = await db.prisma.policyBaseline.findUnique({ where: { name: snapshot.baseline } });
      return { baseline: snapshot.baseline, current: baseline?.currentSnapshotId === id };
    },
    async authorityBinding(id) {
      const binding = await db.prisma.authorityBinding.findFirst({ where: { id }, orderBy: { version: 'desc' } });
      return binding ? { snapshotId: binding.snapshotId, validFrom: binding.validFrom, validUntil: binding.validUntil } : null;
    },
    async existing(ids) {
      const tenant = await db.prisma.tenant.findUnique({ where: { id: ids.tenant }, select: { id: true } });
      return {
        tenant: tenant !== null,
        buckets: await inBatches(ids.buckets, async (batch) =>
          (await db.prisma.bucket.findMany({ where: { name: { in: batch } }, select: { name: true } })).map((row) => row.name),
        ),
        workloads: await inBatches(ids.workloads, async (batch) =>
          (await db.prisma.workload.findMany({ where: { id: { in: batch } }, select: { id: true } })).map((row) => row.id),
        ),
        versions: await inBatches(ids.versions, async (batch) =>
          (await db.prisma.storageObjectVersion.findMany({ where: { versionId: { in: batch } }, select: { versionId: true } })).map(
            (row) => row.versionId,
          ),
        ),
      };
    },
  };
}
