import { createHmac, timingSafeEqual } from 'node:crypto';
import { EcsError, ErrorCode } from '../errors';
import { canonicalJson, sha256Digest } from '../evidence/canonical-json';
import type { JsonObject, JsonValue } from '../evidence/canonical-json';

/** How long a cursor stays valid. @default 24 hours */
export const CURSOR_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Opaque pagination cursors that cannot be forged or reused elsewhere: the position is
 * MACed together with a digest of the query's arguments and caller scope, so a cursor
 * works only for the listing that issued it, and only for `ttlMs`.
 */
export class CursorCodec {
  constructor(
    private readonly secret: Buffer,
    private readonly ttlMs = CURSOR_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  encode(position: JsonObject, scope: JsonValue): string {
    const body = Buffer.from(JSON.stringify({ p: position, s: scopeDigest(scope), t: Math.floor(this.now() / 1000) }), 'utf8').toString(
      'base64url',
    );
    return `${body}.${this.mac(body)}`;
  }

  /** The position, or an `ECS_INVALID_CURSOR` / `ECS_CURSOR_EXPIRED` error. */
  decode(cursor: string, scope: JsonValue): JsonObject {
    const invalid = (message: string): EcsError => new EcsError(ErrorCode.InvalidCursor, message, { field: 'after' });
    const [body, mac, extra] = cursor.length <= 1024 ? cursor.split('.') : [];
    if (!body || !mac || extra !== undefined) throw invalid('cursor is not one this service issued');
    const expected = Buffer.from(this.mac(body), 'utf8');
    const given = Buffer.from(mac, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw invalid('cursor is not one this service issued');
    }
    const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { p: JsonObject; s: string; t: number };
    if (decoded.s !== scopeDigest(scope)) throw invalid('cursor was issued for other arguments or another caller');
    if (this.now() - decoded.t * 1000 > this.ttlMs) {
      throw new EcsError(ErrorCode.CursorExpired, 'cursor has expired; start the listing again', { field: 'after' });
    }
    return decoded.p;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

function scopeDigest(scope: JsonValue): string {
  return sha256Digest(canonicalJson(scope)).slice(7, 39);
}
