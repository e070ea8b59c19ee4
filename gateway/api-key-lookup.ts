import { createHash } from 'node:crypto';
import type { Caller } from '../lib/auth/caller';
import { isAction } from '../lib/auth/permissions';
import type { PlaneClient } from '../lib/subgraph/plane-client';
import type { ApiKeyLookup } from './authenticate';

/**
 * Resolves `X-API-Key` through the identity plane, remembering answers for `ttlMs` so a
 * busy key costs one lookup per window. A revocation takes effect within that window.
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
    if (hit && hit.until > now) return hit.result;
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
    return result;
  };
}
