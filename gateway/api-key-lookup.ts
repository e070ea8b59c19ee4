import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Caller } from '../lib/auth/caller';
import { isAction } from '../lib/auth/permissions';
import { parseTimestamp } from '../lib/domain/timestamp';
import type { ApiKeyLookupResult, PlaneClient } from '../lib/subgraph/plane-client';
import type { ApiKeyLookup } from './authenticate';

/** Answers remembered at most; the least recently used goes first. */
const MAX_REMEMBERED_KEYS = 10_000;

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

function toLookup(answer: ApiKeyLookupResult): ApiKeyLookup {
  if (!answer.ok || !answer.apiKeyId || !answer.tenantId || !answer.scopes) {
    return { ok: false, reason: answer.reason ?? 'unknown' };
  }
  const caller: Caller = {
    subject: `api-key:${answer.apiKeyId}`,
    roles: ['tenant-admin'],
    tenantId: answer.tenantId,
    authMethod: 'api-key',
    apiKeyId: answer.apiKeyId,
    scopes: answer.scopes.filter(isAction),
    ...(answer.expiresAt ? { expiresAt: answer.expiresAt } : {}),
  };
  return { ok: true, caller };
}

/**
 * Resolves `X-API-Key` through the identity plane, remembering answers for `ttlMs` so a
 * busy key costs one lookup per window. A revocation takes effect within that window; an
 * expiry at once. At most 10,000 keys are remembered; past that the least recently used
 * is forgotten, so a flood of unknown keys cannot evict every busy one at once.
 */
export function createApiKeyLookup(
  planeClient: (requestId: string) => PlaneClient,
  ttlMs = 5_000,
): (presented: string, requestId: string) => Promise<ApiKeyLookup> {
  const cache = ttlMs > 0 ? new LRUCache<string, ApiKeyLookup>({ max: MAX_REMEMBERED_KEYS, ttl: ttlMs }) : undefined;
  return async (presented, requestId) => {
    if (presented.length > 200) return { ok: false, reason: 'malformed' };
    const cacheKey = createHash('sha256').update(presented).digest('base64url');
    const hit = cache?.get(cacheKey);
    if (hit) return asOf(hit, Date.now());
    const result = toLookup(await planeClient(requestId).lookupApiKey(presented));
    cache?.set(cacheKey, result);
    return asOf(result, Date.now());
  };
}
