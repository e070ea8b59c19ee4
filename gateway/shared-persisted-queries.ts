import type { RateLimitStore } from '../lib/http/rate-limit-store';
import type { SharedDocuments } from './persisted-manifest';

/** How long a registered document stays in Redis after its registration (each replica also keeps its own copy). */
const SHARED_TTL_SECONDS = 3600;

/**
 * Automatic persisted queries shared by the gateway replicas through the Redis connection of
 * the rate limits (`REDIS_URL`), under `<RATE_LIMIT_REDIS_PREFIX>:apq:<sha256>` for an hour.
 * While Redis is not reachable nothing waits for it: a lookup finds nothing (the client sends
 * the document again, as APQ intends) and a registration stays in this process only.
 */
export function redisPersistedQueries(store: RateLimitStore): SharedDocuments {
  const key = (id: string) => `${store.keyPrefix}:apq:${id}`;
  const ready = () => store.client.status === 'ready';
  return {
    async get(id) {
      if (!ready()) return undefined;
      return (await store.client.get(key(id)).catch(() => null)) ?? undefined;
    },
    async set(id, body) {
      if (!ready()) return;
      await store.client.set(key(id), body, 'EX', SHARED_TTL_SECONDS, 'NX').catch(() => undefined);
    },
  };
}
