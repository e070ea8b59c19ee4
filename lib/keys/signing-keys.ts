import { generateKeyPairSync, hkdfSync } from 'node:crypto';
import { CompactSign, calculateJwkThumbprint, compactVerify, importJWK } from 'jose';
import type { JWK } from 'jose';
import { readOrCreateKeyFile } from './key-file';

/** The algorithm of every signature the service makes (checkpoints, bundles, cursors derive from it). */
export const SIGNING_ALG = 'EdDSA';

/** One key as the key file stores it (a JSON array of them, the signing key last). */
export interface StoredSigningKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

/** The service's signing keys: the newest signs, all stay published so old signatures verify. */
export interface SigningKeys {
  readonly kid: string;
  /** Public keys of every key, newest last, for `/.well-known/jwks.json` and bundles. */
  readonly jwks: { keys: JWK[] };
  /** Signs `payload` as a compact JWS (`EdDSA`, `kid` of the current key, `typ`). */
  sign(payload: Uint8Array, typ: string): Promise<string>;
  /** Verifies a compact JWS made by one of these keys; returns the payload. */
  verify(jws: string): Promise<Uint8Array>;
  /** A 32-byte secret for one purpose (e.g. cursor MACs), derived from the current key. */
  derivedSecret(purpose: string): Buffer;
  /** The same secret derived from the key `kid` (for data sealed before a rotation), or undefined for an unknown key. */
  derivedSecretOf(kid: string, purpose: string): Buffer | undefined;
}

/** A new Ed25519 key in the key file's format; appended to the file, it becomes the signing key. */
export async function createSigningKey(): Promise<StoredSigningKey> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x });
  return { kid, createdAt: new Date().toISOString(), privateJwk: { ...privateJwk, kid, alg: SIGNING_ALG } };
}

/** Reads the key file; on first use creates it atomically, so concurrent starts agree on one key. */
async function readOrCreate(file: string): Promise<StoredSigningKey[]> {
  return JSON.parse(await readOrCreateKeyFile(file, async () => [await createSigningKey()])) as StoredSigningKey[];
}

export async function loadSigningKeys(file: string): Promise<SigningKeys> {
  const stored = await readOrCreate(file);
  if (stored.length === 0) throw new Error(`signing key file ${file} holds no key`);
  const current = stored[stored.length - 1]!;
  const privateKey = await importJWK(current.privateJwk, SIGNING_ALG);
  const publicJwks = stored.map(({ privateJwk }) => {
    const { d: _private, ...publicJwk } = privateJwk;
    return { ...publicJwk, use: 'sig' };
  });
  const publicKeys = new Map(await Promise.all(publicJwks.map(async (jwk) => [jwk.kid!, await importJWK(jwk, SIGNING_ALG)] as const)));
  const secret = Buffer.from(current.privateJwk.d!, 'base64url');
  return {
    kid: current.kid,
    jwks: { keys: publicJwks },
    sign: (payload, typ) => new CompactSign(payload).setProtectedHeader({ alg: SIGNING_ALG, kid: current.kid, typ }).sign(privateKey),
    verify: async (jws) => {
      const { payload } = await compactVerify(
        jws,
        async (header) => {
          const key = header.kid ? publicKeys.get(header.kid) : undefined;
          if (!key) throw new Error('unknown signing key');
          return key;
        },
        { algorithms: [SIGNING_ALG] },
      );
      return payload;
    },
    derivedSecret: (purpose) => deriveSecret(secret, purpose),
    derivedSecretOf: (kid, purpose) => {
      const key = stored.find((candidate) => candidate.kid === kid);
      return key ? deriveSecret(Buffer.from(key.privateJwk.d!, 'base64url'), purpose) : undefined;
    },
  };
}

function deriveSecret(keyMaterial: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', keyMaterial, 'ecs-gateway', purpose, 32));
}
