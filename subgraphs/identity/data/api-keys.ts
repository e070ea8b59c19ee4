import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { byKeys } from '../../../lib/db/by-keys';
import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { ApiKey } from '../../../prisma/generated/client';

export type { ApiKey };

/** API keys look like `ecs_<prefix>_<secret>`: the prefix finds the row, the secret is only stored hashed. */
const KEY_FORMAT = /^ecs_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
/** `lastUsedAt` is written at most this often per key, so a busy key does not write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** API keys by id, for `_entities` batches: one query per batch, in the order asked. */
export async function getApiKeysByIds({ db, ids }: { db: Database; ids: readonly string[] }): Promise<Array<ApiKey | null>> {
  const rows = await db.prisma.apiKey.findMany({ where: { id: { in: [...ids] } } });
  return byKeys(ids, rows, (row) => row.id);
}

/** API keys of several tenants in one query, newest first. */
export async function findApiKeysOfTenants({ db, tenantIds }: { db: Database; tenantIds: readonly string[] }): Promise<ApiKey[][]> {
  const rows = await db.prisma.apiKey.findMany({
    where: { tenantId: { in: [...tenantIds] } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  return tenantIds.map((tenantId) => rows.filter((row) => row.tenantId === tenantId));
}

export interface CreateApiKeyData {
  tenantId: string;
  name: string;
  scopes: string[];
  expiresAt: Date | null;
}

/** A tenant already holds as many live keys as it may (`API_KEYS_PER_TENANT`); nothing was written. */
export class ApiKeyLimitReached extends Error {
  constructor(readonly limit: number) {
    super(`the tenant already has ${limit} live API keys; revoke one first`);
  }
}

/**
 * Creates a key; the secret is returned once and stored only as a SHA-256 hash. A tenant
 * holds at most `limit` live (unrevoked, unexpired) keys: each key has a rate limit of its
 * own, so an unbounded number would be an unbounded rate. The count is taken under a
 * per-tenant transaction lock, so concurrent creations cannot pass it together.
 */
export async function createApiKey({
  db,
  data,
  actor,
  correlationId,
  authoritySnapshotId,
  limit,
}: {
  db: Database;
  data: CreateApiKeyData;
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
  limit: number;
}): Promise<{ apiKey: ApiKey; secret: string }> {
  const prefix = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secretPart = randomBytes(32).toString('base64url');
  const apiKey = await evidenceTransaction(db, data.tenantId, async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`apikeys:${data.tenantId}`}))`;
    const now = new Date();
    const live = await tx.apiKey.count({
      where: { tenantId: data.tenantId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
    });
    if (live >= limit) throw new ApiKeyLimitReached(limit);
    const created = await tx.apiKey.create({ data: { ...data, prefix, secretHash: hashSecret(secretPart) } });
    await appendEvidence(tx, {
      tenantId: data.tenantId,
      eventType: 'apikey.create',
      actor,
      outcome: 'accepted',
      correlationId,
      authoritySnapshotId,
      details: { action: 'apikey.manage', api_key_id: created.id, scope: data.scopes, expires_at: data.expiresAt?.toISOString() ?? null },
    });
    return created;
  });
  return { apiKey, secret: `ecs_${prefix}_${secretPart}` };
}

/** Revokes a key (idempotent); evidenced. */
export async function revokeApiKey({
  db,
  key,
  actor,
  correlationId,
}: {
  db: Database;
  key: ApiKey;
  actor: string;
  correlationId: string;
}): Promise<ApiKey> {
  if (key.revokedAt) return key;
  return evidenceTransaction(db, key.tenantId, async (tx) => {
    const revoked = await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    await appendEvidence(tx, {
      tenantId: key.tenantId,
      eventType: 'apikey.revoke',
      actor,
      outcome: 'accepted',
      correlationId,
      details: { action: 'apikey.manage', api_key_id: key.id },
    });
    return revoked;
  });
}

export type ApiKeyResolution =
  | { ok: true; key: ApiKey }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired'; key?: ApiKey };

/** Finds the key a presented secret belongs to and checks it is usable now. */
export async function resolveApiKey({
  db,
  presented,
  now = new Date(),
}: {
  db: Database;
  presented: string;
  now?: Date;
}): Promise<ApiKeyResolution> {
  const match = KEY_FORMAT.exec(presented);
  if (!match) return { ok: false, reason: 'malformed' };
  const key = await db.prisma.apiKey.findUnique({ where: { prefix: match[1]! } });
  const given = Buffer.from(hashSecret(match[2]!), 'hex');
  if (!key || !timingSafeEqual(given, Buffer.from(key.secretHash, 'hex'))) return { ok: false, reason: 'unknown' };
  if (key.revokedAt) return { ok: false, reason: 'revoked', key };
  if (key.expiresAt && key.expiresAt <= now) return { ok: false, reason: 'expired', key };
  if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: now } });
  }
  return { ok: true, key };
}

export function assertKeyOfTenant(key: ApiKey | null, tenantId: string | undefined): ApiKey {
  if (!key || (tenantId !== undefined && key.tenantId !== tenantId)) throw new EcsError(ErrorCode.NotFound, 'API key not found');
  return key;
}
