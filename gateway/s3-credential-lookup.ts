import { LRUCache } from 'lru-cache';
import type { Caller } from '../lib/auth/caller';
import { isAction } from '../lib/auth/permissions';
import { parseTimestamp } from '../lib/domain/timestamp';
import { S3Error } from '../lib/s3/s3-error';
import type { CredentialScope } from '../lib/s3/sigv4-crypto';
import type { S3SigningCredential } from '../lib/s3/sigv4-verify';
import type { PlaneClient, S3SigningKeyResult } from '../lib/subgraph/plane-client';

/** An S3 credential as the gateway knows it: the day's signing key and the caller it stands for. */
export interface S3CallerCredential extends S3SigningCredential {
  caller: Caller;
}

const MAX_REMEMBERED = 10_000;

function toCredential(answer: S3SigningKeyResult): S3CallerCredential | 'expired' | undefined {
  if (!answer.ok) return answer.reason === 'expired' ? 'expired' : undefined;
  if (!answer.s3CredentialId || !answer.tenantId || !answer.scopes || !answer.signingKey) return undefined;
  const expiresAt = answer.expiresAt ? parseTimestamp(answer.expiresAt) : null;
  if (expiresAt === undefined) return 'expired';
  const caller: Caller = {
    subject: `s3-credential:${answer.s3CredentialId}`,
    roles: ['tenant-admin'],
    tenantId: answer.tenantId,
    authMethod: 's3-credential',
    scopes: answer.scopes.filter(isAction),
    ...(answer.expiresAt ? { expiresAt: answer.expiresAt } : {}),
  };
  return { signingKey: Buffer.from(answer.signingKey, 'hex'), expiresAt, caller };
}

/**
 * Finds an S3 credential's signing key for a signature's scope at the identity plane,
 * remembering answers for `ttlMs` (a revocation takes effect within that window, an expiry at
 * once: the verifier checks `expiresAt` on every request).
 */
export function createS3CredentialLookup(
  planeClient: (requestId: string) => PlaneClient,
  ttlMs = 5_000,
): (accessKeyId: string, scope: CredentialScope, requestId: string) => Promise<S3CallerCredential | undefined> {
  const cache =
    ttlMs > 0 ? new LRUCache<string, S3CallerCredential | 'expired' | 'unknown'>({ max: MAX_REMEMBERED, ttl: ttlMs }) : undefined;
  return async (accessKeyId, scope, requestId) => {
    if (accessKeyId.length > 128) return undefined;
    const cacheKey = `${accessKeyId}/${scope.date}/${scope.region}/${scope.service}`;
    let found = cache?.get(cacheKey);
    if (found === undefined) {
      found = toCredential(await planeClient(requestId).lookupS3SigningKey(accessKeyId, scope)) ?? 'unknown';
      cache?.set(cacheKey, found);
    }
    if (found === 'expired') throw new S3Error('ExpiredToken', 'The provided token has expired.');
    return found === 'unknown' ? undefined : found;
  };
}
