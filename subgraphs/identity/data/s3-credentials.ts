import { randomBytes } from 'node:crypto';
import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { SigningKeys } from '../../../lib/keys/signing-keys';
import { openSecret, sealSecret } from '../../../lib/s3/secret-box';
import { type CredentialScope, signingKey } from '../../../lib/s3/sigv4-crypto';
import type { S3Credential } from '../../../prisma/generated/client';

export type { S3Credential };

/** The purpose the sealing key is derived for (HKDF over the service signing key). */
const SEAL_PURPOSE = 's3-credential-secret';
const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Access key ids look like AWS's: 20 upper-case characters, `ECSK` and 16 random ones. */
const ACCESS_KEY_FORMAT = /^ECSK[A-Z2-7]{16}$/;
const LAST_USED_RESOLUTION_MS = 60_000;

function newAccessKeyId(): string {
  return `ECSK${[...randomBytes(16)].map((byte) => ACCESS_KEY_ALPHABET[byte % 32]).join('')}`;
}

export interface CreateS3CredentialData {
  tenantId: string;
  name: string;
  scopes: string[];
  expiresAt: Date | null;
}

/** A tenant already holds as many live S3 credentials as it may; nothing was written. */
export class S3CredentialLimitReached extends Error {
  constructor(readonly limit: number) {
    super(`the tenant already has ${limit} live S3 credentials; revoke one first`);
  }
}

/**
 * Creates an S3 credential. The secret access key is returned once; it is stored sealed with
 * AES-256-GCM under a key derived from the current service signing key (whose id is kept, so
 * a rotation leaves it readable), bound to the access key id. Evidenced as `s3credential.create`.
 */
export async function createS3Credential({
  db,
  keys,
  data,
  actor,
  correlationId,
  authoritySnapshotId,
  limit,
}: {
  db: Database;
  keys: SigningKeys;
  data: CreateS3CredentialData;
  actor: string;
  correlationId: string;
  authoritySnapshotId: string;
  limit: number;
}): Promise<{ s3Credential: S3Credential; secretAccessKey: string }> {
  const accessKeyId = newAccessKeyId();
  const secretAccessKey = randomBytes(30).toString('base64');
  const sealedSecret = sealSecret(keys.derivedSecret(SEAL_PURPOSE), secretAccessKey, accessKeyId);
  const s3Credential = await evidenceTransaction(db, data.tenantId, async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`s3credentials:${data.tenantId}`}))`;
    const now = new Date();
    const live = await tx.s3Credential.count({
      where: { tenantId: data.tenantId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
    });
    if (live >= limit) throw new S3CredentialLimitReached(limit);
    const created = await tx.s3Credential.create({ data: { ...data, accessKeyId, sealedSecret, keyId: keys.kid } });
    await appendEvidence(tx, {
      tenantId: data.tenantId,
      eventType: 's3credential.create',
      actor,
      outcome: 'accepted',
      correlationId,
      authoritySnapshotId,
      details: {
        action: 'apikey.manage',
        s3_credential_id: created.id,
        access_key_id: accessKeyId,
        scope: data.scopes,
        expires_at: data.expiresAt?.toISOString() ?? null,
      },
    });
    return created;
  });
  return { s3Credential, secretAccessKey };
}

/** Revokes a credential (idempotent); evidenced as `s3credential.revoke`. */
export async function revokeS3Credential({
  db,
  credential,
  actor,
  correlationId,
}: {
  db: Database;
  credential: S3Credential;
  actor: string;
  correlationId: string;
}): Promise<S3Credential> {
  if (credential.revokedAt) return credential;
  return evidenceTransaction(db, credential.tenantId, async (tx) => {
    const revoked = await tx.s3Credential.update({ where: { id: credential.id }, data: { revokedAt: new Date() } });
    await appendEvidence(tx, {
      tenantId: credential.tenantId,
      eventType: 's3credential.revoke',
      actor,
      outcome: 'accepted',
      correlationId,
      details: { action: 'apikey.manage', s3_credential_id: credential.id, access_key_id: credential.accessKeyId },
    });
    return revoked;
  });
}

export async function getS3CredentialsByIds({ db, ids }: { db: Database; ids: readonly string[] }): Promise<Array<S3Credential | null>> {
  const rows = await db.prisma.s3Credential.findMany({ where: { id: { in: [...ids] } } });
  return ids.map((id) => rows.find((row) => row.id === id) ?? null);
}

export async function findS3CredentialsOfTenants({
  db,
  tenantIds,
}: {
  db: Database;
  tenantIds: readonly string[];
}): Promise<S3Credential[][]> {
  const rows = await db.prisma.s3Credential.findMany({
    where: { tenantId: { in: [...tenantIds] } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  return tenantIds.map((tenantId) => rows.filter((row) => row.tenantId === tenantId));
}

export function assertS3CredentialOfTenant(credential: S3Credential | null, tenantId: string | undefined): S3Credential {
  if (!credential || (tenantId !== undefined && credential.tenantId !== tenantId))
    throw new EcsError(ErrorCode.NotFound, 'S3 credential not found');
  return credential;
}

export type S3SigningKeyResolution =
  | { ok: true; credential: S3Credential; signingKey: Buffer }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/**
 * The SigV4 signing key of a credential for one day, region and service: what the gateway needs
 * to check a signature, without the secret itself ever leaving this plane.
 */
export async function resolveS3SigningKey({
  db,
  keys,
  accessKeyId,
  scope,
  now = new Date(),
}: {
  db: Database;
  keys: SigningKeys;
  accessKeyId: string;
  scope: CredentialScope;
  now?: Date;
}): Promise<S3SigningKeyResolution> {
  if (!ACCESS_KEY_FORMAT.test(accessKeyId)) return { ok: false, reason: 'malformed' };
  const credential = await db.prisma.s3Credential.findUnique({ where: { accessKeyId } });
  if (!credential) return { ok: false, reason: 'unknown' };
  if (credential.revokedAt) return { ok: false, reason: 'revoked' };
  if (credential.expiresAt && credential.expiresAt <= now) return { ok: false, reason: 'expired' };
  const sealingKey = keys.derivedSecretOf(credential.keyId, SEAL_PURPOSE);
  if (!sealingKey) throw new Error(`S3 credential ${credential.id} is sealed under unknown key ${credential.keyId}`);
  const secret = openSecret(sealingKey, credential.sealedSecret, credential.accessKeyId);
  if (!credential.lastUsedAt || now.getTime() - credential.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.prisma.s3Credential.update({ where: { id: credential.id }, data: { lastUsedAt: now } });
  }
  return { ok: true, credential, signingKey: signingKey(secret, scope) };
}
