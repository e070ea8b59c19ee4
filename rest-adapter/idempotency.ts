import { createHash } from 'node:crypto';
import type { Caller } from '../lib/auth/caller';
import type { Database } from '../lib/db/database';
import { contentDigest } from '../lib/evidence/canonical-json';
import { EcsError, ErrorCode } from '../lib/errors';

/** How long a key's response is kept for replay. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A first attempt still unfinished after this long is taken as abandoned. */
const ABANDONED_AFTER_MS = 60_000;
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

export type IdempotencyStart =
  | { kind: 'run'; finish(status: number, body: unknown): Promise<void>; abandon(): Promise<void> }
  | { kind: 'replay'; status: number; body: unknown };

/**
 * The key a stored response is filed under: a digest of everything that decides what the
 * caller may do (issuer, subject, tenant, roles, API key id and scopes, jurisdiction, how it
 * authenticated), so a response is only ever replayed to the same principal. The same
 * subject with another tenant or other roles is another principal; a fresh token with the
 * same claims is not (expiry is left out).
 */
export function idempotencyPrincipal(caller: Caller): string {
  const sorted = (values: readonly string[]) => [...new Set(values)].sort();
  return contentDigest({
    issuer: caller.issuer ?? null,
    subject: caller.subject,
    tenant_id: caller.tenantId ?? null,
    roles: sorted(caller.roles),
    api_key_id: caller.apiKeyId ?? null,
    scopes: caller.scopes ? sorted(caller.scopes) : null,
    jurisdiction: caller.jurisdiction ?? null,
    auth_method: caller.authMethod,
  });
}

/**
 * Claims an Idempotency-Key for one principal (see `idempotencyPrincipal`). The first
 * request with a key runs and its response is kept; a retry with the same key and the same
 * request replays it without a second action (the router authorizes the replay as it would
 * a new request first); the same key with another request is `ECS_IDEMPOTENCY_KEY_REUSED`
 * (422); a retry while the first is still running is a conflict (409). A failed first
 * attempt releases the key, so it can be retried.
 */
export async function startIdempotent(
  db: Database,
  caller: Caller,
  key: string,
  request: { method: string; path: string; body: unknown },
): Promise<IdempotencyStart> {
  if (!KEY_FORMAT.test(key)) {
    throw new EcsError(ErrorCode.BadRequest, 'Idempotency-Key must be 1 to 255 visible ASCII characters', { field: 'Idempotency-Key' });
  }
  const principal = idempotencyPrincipal(caller);
  const requestHash = createHash('sha256')
    .update(JSON.stringify([request.method, request.path, request.body ?? null]))
    .digest('hex');
  const where = { principal_key: { principal, key } };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const claimed = await db.prisma.$executeRaw`
      INSERT INTO gateway_idempotency_keys (principal, key, request_hash) VALUES (${principal}, ${key}, ${requestHash})
      ON CONFLICT DO NOTHING`;
    if (claimed === 1) {
      return {
        kind: 'run',
        finish: async (status, body) => {
          await db.prisma.idempotencyRecord.update({ where, data: { status, response: JSON.stringify(body ?? null) } });
        },
        abandon: async () => {
          await db.prisma.idempotencyRecord.deleteMany({ where: { principal, key, status: null } });
        },
      };
    }
    const existing = await db.prisma.idempotencyRecord.findUnique({ where });
    if (!existing) continue;
    const age = Date.now() - existing.createdAt.getTime();
    // An expired key, or a first attempt that never finished (its process died), is released.
    if (age > IDEMPOTENCY_TTL_MS || (existing.status === null && age > ABANDONED_AFTER_MS)) {
      await db.prisma.idempotencyRecord.deleteMany({ where: { principal, key, createdAt: existing.createdAt } });
      continue;
    }
    if (existing.requestHash !== requestHash) {
      throw new EcsError(ErrorCode.IdempotencyKeyReused, 'this Idempotency-Key was used for a different request', {
        field: 'Idempotency-Key',
      });
    }
    if (existing.status === null) {
      throw new EcsError(ErrorCode.Conflict, 'a request with this Idempotency-Key is still in progress; retry later');
    }
    return { kind: 'replay', status: existing.status, body: existing.response === null ? undefined : JSON.parse(existing.response) };
  }
  throw new EcsError(ErrorCode.Conflict, 'the Idempotency-Key could not be claimed; retry');
}

/** Deletes the keys whose replay time is over (finished or abandoned alike); returns how many. */
export async function sweepIdempotencyRecords(db: Database, now = Date.now()): Promise<number> {
  const { count } = await db.prisma.idempotencyRecord.deleteMany({ where: { createdAt: { lt: new Date(now - IDEMPOTENCY_TTL_MS) } } });
  return count;
}

/**
 * Sweeps at once and then every `intervalMs` until stopped, so the table holds at most about a
 * day of keys. A failed sweep is logged and tried again at the next interval.
 */
export function sweepIdempotencyRecordsEvery(
  db: Database,
  intervalMs: number,
  onError: (error: unknown) => void,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    running = sweepIdempotencyRecords(db).catch(onError);
  };
  sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
