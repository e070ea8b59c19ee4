import { SignJWT, jwtVerify } from 'jose';
import type { Plane } from '../config/config';
import type { Caller } from './caller';

/** Header carrying the caller from the gateway to a plane. */
export const IDENTITY_HEADER = 'x-ecs-identity';
const ISSUER = 'ecs-gateway';
/** Lifetime of a forwarded identity: one gateway request. @default 60 s */
export const IDENTITY_TTL_SECONDS = 60;

/**
 * Signs and verifies the short-lived identity the gateway forwards to a plane (and a
 * plane to another plane). HMAC with a key derived from the service key, which only the
 * gateway and the planes hold; the audience is the receiving plane.
 */
export class IdentityTokens {
  constructor(private readonly secret: Uint8Array) {}

  sign(caller: Caller, audience: Plane): Promise<string> {
    return new SignJWT({ caller: caller as unknown as Record<string, unknown> })
      .setProtectedHeader({ alg: 'HS256', typ: 'ecs-identity+jwt' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${IDENTITY_TTL_SECONDS}s`)
      .sign(this.secret);
  }

  /** The caller, or throws when the token is missing, expired, forged or meant for another plane. */
  async verify(token: string, audience: Plane): Promise<Caller> {
    const { payload } = await jwtVerify(token, this.secret, {
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
