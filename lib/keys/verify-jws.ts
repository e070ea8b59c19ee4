/**
 * Offline verification of the service's compact JWS signatures (EdDSA, `kid`, `typ`)
 * against a public JWKS, attached or detached (RFC 7515 appendix F: `header..signature`,
 * the payload supplied by the caller). Every segment must be canonical base64url, so no
 * two spellings of one signature both verify.
 */
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { SIGNING_ALG } from './signing-keys';

export class JwsError extends Error {
  override name = 'JwsError';
}

export interface VerifiedJws {
  payload: Uint8Array;
  kid: string;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;

function canonicalSegment(segment: string, what: string): void {
  if (!SEGMENT.test(segment) || Buffer.from(segment, 'base64url').toString('base64url') !== segment) {
    throw new JwsError(`${what} is not canonical base64url`);
  }
}

/** A compact JWS without its payload: `header..signature`. */
export function detachPayload(compact: string): string {
  const [header, , signature] = compact.split('.');
  return `${header}..${signature}`;
}

/** Reads a JWKS document, refusing private keys and anything that is not a key set. */
export function parseJwks(value: unknown): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key === 'object' && key !== null)) {
    throw new JwsError('not a JWKS ({"keys": [...]})');
  }
  if (keys.some((key: Record<string, unknown>) => 'd' in key)) throw new JwsError('the JWKS holds a private key');
  return value as JSONWebKeySet;
}

/**
 * Verifies a compact JWS (payload attached, or detached and given as `payload`) with the
 * key of its `kid` in `jwks`; the header must name `alg: EdDSA`, a `kid` and `typ`.
 */
export async function verifyJws(
  jws: string,
  { jwks, typ, payload }: { jwks: JSONWebKeySet; typ: string; payload?: Uint8Array },
): Promise<VerifiedJws> {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new JwsError('not a compact JWS');
  const [header, attached, signature] = parts as [string, string, string];
  canonicalSegment(header, 'header');
  canonicalSegment(attached, 'payload');
  canonicalSegment(signature, 'signature');
  if ((payload === undefined) === (attached === '')) {
    throw new JwsError(payload === undefined ? 'detached JWS without its payload' : 'expected a detached JWS');
  }
  let protectedHeader: Record<string, unknown>;
  try {
    protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new JwsError('header is not JSON');
  }
  if (protectedHeader.alg !== SIGNING_ALG) throw new JwsError(`alg ${String(protectedHeader.alg)} is not ${SIGNING_ALG}`);
  if (typeof protectedHeader.kid !== 'string') throw new JwsError('header has no kid');
  if (protectedHeader.typ !== typ) throw new JwsError(`typ ${String(protectedHeader.typ)} is not ${typ}`);
  const body = payload === undefined ? attached : Buffer.from(payload).toString('base64url');
  try {
    const result = await compactVerify(`${header}.${body}.${signature}`, createLocalJWKSet(jwks), {
      algorithms: [SIGNING_ALG],
    });
    return { payload: result.payload, kid: protectedHeader.kid };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JWKS_NO_MATCHING_KEY') throw new JwsError(`no key ${protectedHeader.kid} in the JWKS`);
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new JwsError('signature does not verify');
    throw new JwsError(`cannot verify: ${(error as Error).message}`);
  }
}
