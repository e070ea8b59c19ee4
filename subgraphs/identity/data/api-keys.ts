import type { Database } from '../../../lib/db/database';
import type { ApiKey } from '../../../prisma/generated/client';

export type { ApiKey };

/** API keys by id, for `_entities` batches: one query per batch, in the order asked. */
export async function getApiKeysByIds({
  db,
  ids,
}: {
  db: Database;
  ids: readonly string[];
}): Promise<Array<ApiKey | null>> {
  const rows = await db.prisma.apiKey.findMany({ where: { id: { in: [...ids] } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** API keys of several tenants in one query, newest first. */
export async function findApiKeysOfTenants({
  db,
  tenantIds,
}: {
  db: Database;
  tenantIds: readonly string[];
}): Promise<ApiKey[][]> {
  const rows = await db.prisma.apiKey.findMany({
    where: { tenantId: { in: [...tenantIds] } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  return tenantIds.map((tenantId) => rows.filter((row) => row.tenantId === tenantId));
}
