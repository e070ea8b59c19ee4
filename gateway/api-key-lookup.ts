import { createHash } from 'node:crypto';
import type { Caller } from '../lib/auth/caller';
import { isAction } from '../lib/auth/permissions';
import { parseTimestamp } from '../lib/domain/timestamp';
import type { PlaneClient } from '../lib/subgraph/plane-client';
import type { ApiKeyLookup } from './authenticate';

/**
 * A remembered answer as it stands at `now`: a key whose expiry has passed is refused as the
 * identity plane would refuse it (the expiry is known, so it never waits for the cache);
 * an expiry that cannot be read fails closed.
 */
function asOf(result: ApiKeyLookup, now: number): ApiKeyLookup {
  if (!result.ok || result.caller.expiresAt === undefined) return result;
  const expiresAt = parseTimestamp(result.caller.expiresAt);
  return expiresAt && expiresAt.getTime() > now ? result : { ok: false, reason: 'expired' };
}

/**
 * Resolves `X-API-Key` through the identity plane, remembering answers for `ttlMs` so a
 * busy key costs one lookup per window. A revocation takes effect within that window; an
 * expiry at once.
 */
export function createApiKeyLookup(
  planeClient: (requestId: string) => PlaneClient,
  ttlMs = 5_000,
): (presented: string, requestId: string) => Promise<ApiKeyLookup> {
  const cache = new Map<string, { until: number; result: ApiKeyLookup }>();
  return async (presented, requestId) => {
    if (presented.length > 200) return { ok: false, reason: 'malformed' };
    const cacheKey = createHash('sha256').update(presented).digest('base64url');
    const now = Date.now();
    const hit = cache.get(cacheKey);
    if (hit && hit.until > now) return asOf(hit.result, now);
    const answer = await planeClient(requestId).lookupApiKey(presented);
    let result: ApiKeyLookup;
    if (answer.ok && answer.apiKeyId && answer.tenantId && answer.scopes) {
      const caller: Caller = {
        subject: `api-key:${answer.apiKeyId}`,
        roles: ['tenant-admin'],
        tenantId: answer.tenantId,
        authMethod: 'api-key',
        apiKeyId: answer.apiKeyId,
        scopes: answer.scopes.filter(isAction),
        ...(answer.expiresAt ? { expiresAt: answer.expiresAt } : {}),
      };
      result = { ok: true, caller };
    } else {
      result = { ok: false, reason: answer.reason ?? 'unknown' };
    }
    if (ttlMs > 0) {
      if (cache.size > 10_000) cache.clear();
      cache.set(cacheKey, { until: now + ttlMs, result });
    }
    return asOf(result, Date.now());
  };
}
