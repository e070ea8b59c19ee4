import type { Database } from '../../../lib/db/database';
import type { Prisma } from '../../../prisma/generated/client';
import type { StorageObjectVersion } from './objects';

/** Where a version listing resumes: after every version of `key`, or after `versionId` of it. */
export interface VersionListingMarker {
  key: string;
  versionId?: string;
}

export interface BucketVersionPage {
  /** In key order, each key's versions newest first (delete markers included). */
  items: Array<StorageObjectVersion & { isCurrent: boolean }>;
  hasMore: boolean;
}

/** Thrown when `versionId` of a marker is not a version of the marker's key in the bucket. */
export class UnknownVersionMarker extends Error {}

/**
 * Every version of a bucket's keys under `prefix` (delete markers and keys whose newest version
 * is a delete marker included), in key order and newest first within a key, resuming after
 * `marker`: S3's ListObjectVersions order, paged by key and version id.
 */
export async function listBucketVersions(
  db: Database,
  options: { bucket: string; prefix: string; marker?: VersionListingMarker; first: number },
): Promise<BucketVersionPage> {
  const { bucket, prefix, marker, first } = options;
  let after: Prisma.StorageObjectVersionWhereInput | undefined;
  if (marker?.versionId !== undefined) {
    const anchor = await db.prisma.storageObjectVersion.findUnique({ where: { versionId: marker.versionId } });
    if (!anchor || anchor.bucket !== bucket || anchor.key !== marker.key) throw new UnknownVersionMarker(marker.versionId);
    after = {
      OR: [
        { key: { gt: marker.key } },
        { key: marker.key, createdAt: { lt: anchor.createdAt } },
        { key: marker.key, createdAt: anchor.createdAt, versionId: { lt: anchor.versionId } },
      ],
    };
  } else if (marker !== undefined) {
    after = { key: { gt: marker.key } };
  }
  const rows = await db.prisma.storageObjectVersion.findMany({
    where: { bucket, AND: [prefix ? { key: { startsWith: prefix } } : {}, after ?? {}] },
    orderBy: [{ key: 'asc' }, { createdAt: 'desc' }, { versionId: 'desc' }],
    take: first + 1,
    include: { object: { select: { currentVersionId: true } } },
  });
  const items = rows
    .slice(0, first)
    .map(({ object, ...version }) => ({ ...version, isCurrent: object.currentVersionId === version.versionId }));
  return { items, hasMore: rows.length > first };
}
