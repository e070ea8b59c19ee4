// The development issuer: a local ES256 key that mints access tokens for `ecs token`, so the
// gateway can be tried without an OIDC provider. Trust it only in development and tests.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import path from 'node:path';
import { SignJWT, calculateJwkThumbprint, importJWK } from 'jose';
import type { JWK } from 'jose';
import { readOrCreateKeyFile } from '../keys/key-file';

export const DEV_ISSUER = 'urn:ecs-gateway:dev-issuer';
const ALG = 'ES256';

export interface DevTokenClaims {
  subject: string;
  roles: string[];
  tenantId?: string;
  audience: string;
  ttlSeconds: number;
  jurisdiction?: string;
}

export interface DevIssuer {
  issuer: string;
  /** The public key (no private parts), for `createTokenVerifier({ issuers: [{ issuer, jwks }] })`. */
  jwks: { keys: JWK[] };
  /** An access token (`typ: at+jwt`, ES256) with `roles`, `tenant_id` and `jurisdiction` claims. */
  mint(claims: DevTokenClaims): Promise<string>;
}

interface StoredKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

/** Where `ecs token` and the gateway keep the development issuer's key. */
export function devIssuerFile(dataDir: string): string {
  return path.join(dataDir, 'keys', 'dev-issuer.json');
}

async function createKey(): Promise<StoredKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  return { kid, createdAt: new Date().toISOString(), privateJwk: { ...jwk, kid, alg: ALG } };
}

function parse(file: string, text: string): StoredKey {
  const stored = JSON.parse(text) as Partial<StoredKey>;
  const jwk = stored.privateJwk;
  if (
    typeof stored.kid !== 'string' ||
    !jwk ||
    jwk.kty !== 'EC' ||
    jwk.crv !== 'P-256' ||
    typeof jwk.d !== 'string' ||
    typeof jwk.x !== 'string' ||
    typeof jwk.y !== 'string'
  ) {
    throw new Error(`development issuer key file ${file} does not hold an ES256 private key`);
  }
  return stored as StoredKey;
}

/** Reads the key file; on first use creates it atomically (mode 0600), so concurrent starts agree. */
async function readOrCreate(file: string): Promise<StoredKey> {
  return parse(file, await readOrCreateKeyFile(file, createKey));
}

export async function loadDevIssuer(file: string): Promise<DevIssuer> {
  const stored = await readOrCreate(file);
  const { d: _private, ...publicJwk } = stored.privateJwk;
  const jwks = {
    keys: [{ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid: stored.kid, alg: ALG, use: 'sig' }],
  };
  const privateKey = await importJWK(stored.privateJwk, ALG);
  return {
    issuer: DEV_ISSUER,
    jwks,
    async mint(claims) {
      if (!Number.isInteger(claims.ttlSeconds) || claims.ttlSeconds <= 0) {
        throw new RangeError('ttlSeconds must be a positive whole number of seconds');
      }
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        roles: [...claims.roles],
        ...(claims.tenantId === undefined ? {} : { tenant_id: claims.tenantId }),
        ...(claims.jurisdiction === undefined ? {} : { jurisdiction: claims.jurisdiction }),
      })
        .setProtectedHeader({ alg: ALG, kid: stored.kid, typ: 'at+jwt' })
        .setIssuer(DEV_ISSUER)
        .setSubject(claims.subject)
        .setAudience(claims.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + claims.ttlSeconds)
        .setJti(randomUUID())
        .sign(privateKey);
    },
  };
}
