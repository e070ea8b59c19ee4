import { createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT, decodeJwt, jwtVerify } from 'jose';
import type { Plane } from '../config/config';
import type { Caller } from './caller';

/** Header carrying the caller from the gateway to a plane. */
export const IDENTITY_HEADER = 'x-ecs-identity';
const ISSUER = 'ecs-gateway';
/** Lifetime of a forwarded identity: one gateway request. @default 60 s */
export const IDENTITY_TTL_SECONDS = 60;

/** A signed identity is reused for the same caller and plane while it has at least this long to live. */
const REUSE_SECONDS = IDENTITY_TTL_SECONDS / 2;
/** Entries of each cache; beyond it the cache starts again empty. */
const CACHE_ENTRIES = 2000;

/**
 * Signs and verifies the short-lived identity the gateway forwards to a plane (and a
 * plane to another plane). HMAC with a key derived from the service key, which only the
 * gateway and the planes hold; the audience is the receiving plane.
 *
 * Both directions are cached, bounded: a caller's identity for a plane is signed once per
 * half lifetime, and a token that verified is known (for its audience) until it expires.
 * Only tokens that verified are remembered, keyed by their whole text, so the cache answers
 * exactly what verifying again would.
 */
export class IdentityTokens {
  private readonly key: KeyObject;
  private readonly signed = new Map<string, { token: string; renewAt: number }>();
  private readonly verified = new Map<string, { caller: Caller; expiresAt: number }>();

  constructor(secret: Uint8Array) {
    this.key = createSecretKey(secret);
  }

  async sign(caller: Caller, audience: Plane): Promise<string> {
    const cacheKey = `${audience} ${JSON.stringify(caller)}`;
    const now = Date.now();
    const cached = this.signed.get(cacheKey);
    if (cached && now < cached.renewAt) return cached.token;
    const token = await new SignJWT({ caller: caller as unknown as Record<string, unknown> })
      .setProtectedHeader({ alg: 'HS256', typ: 'ecs-identity+jwt' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${IDENTITY_TTL_SECONDS}s`)
      .sign(this.key);
    if (this.signed.size >= CACHE_ENTRIES) this.signed.clear();
    this.signed.set(cacheKey, { token, renewAt: now + REUSE_SECONDS * 1000 });
    return token;
  }

  /** The caller, or throws when the token is missing, expired, forged or meant for another plane. */
  async verify(token: string, audience: Plane): Promise<Caller> {
    const cacheKey = `${audience} ${token}`;
    const known = this.verified.get(cacheKey);
    if (known) {
      if (Date.now() < known.expiresAt) return structuredClone(known.caller);
      this.verified.delete(cacheKey);
    }
    const caller = await this.verifyToken(token, audience);
    const { exp } = decodeJwt(token);
    if (typeof exp === 'number') {
      if (this.verified.size >= CACHE_ENTRIES) this.verified.clear();
      this.verified.set(cacheKey, { caller: structuredClone(caller), expiresAt: exp * 1000 });
    }
    return caller;
  }

  private async verifyToken(token: string, audience: Plane): Promise<Caller> {
    const { payload } = await jwtVerify(token, this.key, {
      issuer: ISSUER,
      audience,
      algorithms: ['HS256'],
      typ: 'ecs-identity+jwt',
      clockTolerance: 5,
      requiredClaims: ['exp', 'iat'],
    });
    const caller = payload.caller as Caller | undefined;
    if (!caller || typeof caller.subject !== 'string' || !Array.isArray(caller.roles)) {
      throw new Error('identity token carries no caller');
    }
    return caller;
  }
}
