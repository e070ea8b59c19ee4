// Verifies the bearer tokens (OAuth 2.0 JWT access tokens, RFC 9068) that callers present to
// the gateway, following RFC 8725: an algorithm allowlist without HS* and `none`, keys only from
// the allowlisted issuer's own key set (never from `jku`/`x5u`/`jwk`/`x5c`), an explicit `typ`
// check against cross-JWT confusion, issuer and audience checks, and bounded clock skew.
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { CryptoKey, FlattenedJWSInput, JWK, JWSHeaderParameters, JWTPayload, JWTVerifyOptions } from 'jose';
import { RESOURCE_NAME } from '../domain/identifiers';

/** The roles the gateway knows; any other role value in a token is ignored. */
export const KNOWN_ROLES = ['platform-admin', 'tenant-admin', 'auditor', 'reader'] as const;
export type Role = (typeof KNOWN_ROLES)[number];

/** An issuer whose tokens are accepted, with its keys: exactly one of `jwksUri` or `jwks`. */
export interface TrustedIssuer {
  /** Compared exactly with the token's `iss` claim. */
  issuer: string;
  /** The issuer's JWKS endpoint (`https:`, or `http:` on a loopback address). */
  jwksUri?: string;
  /** The issuer's public keys, for an issuer known locally (e.g. the development issuer). */
  jwks?: { keys: JWK[] };
}

/** Names of the claims that carry the caller's roles, tenant and jurisdiction. */
export interface ClaimMapping {
  /** @default 'roles' (often 'groups') */
  roles: string;
  /** @default 'tenant_id' */
  tenant: string;
  /** @default 'jurisdiction' */
  jurisdiction: string;
}

export interface TokenVerifierOptions {
  /** The issuer allowlist. */
  issuers: TrustedIssuer[];
  /** This gateway's audience; a token must name it in `aud` (a string or an array). */
  audience: string;
  /** Accepted JWS algorithms. HS* and `none` are never accepted (the constructor throws). @default ['RS256','PS256','ES256','EdDSA'] */
  algorithms?: string[];
  /** Tolerance for `exp`, `nbf` and `iat`. @default 30 */
  clockSkewSeconds?: number;
  /** When set, a token whose `iat` is older than this is refused ('too_old'). */
  maxTokenAgeSeconds?: number;
  /** Accepted JOSE header `typ` values, case-insensitive, `application/` optional. @default ['at+jwt'] */
  allowedTypes?: string[];
  claims?: Partial<ClaimMapping>;
  /** Longer tokens are refused before any parsing. @default 8192 */
  maxTokenLength?: number;
}

export interface VerifiedToken {
  subject: string;
  issuer: string;
  /** Known roles only, without duplicates, in the token's order. */
  roles: Role[];
  tenantId?: string;
  jurisdiction?: string;
  expiresAt: Date;
  issuedAt: Date;
  tokenId?: string;
}

export type TokenFailure =
  | 'malformed'
  | 'algorithm'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'too_old'
  | 'signature'
  | 'unknown_key'
  | 'type'
  | 'claims';

/** Why a token was refused. The message is short and safe to show to the caller. */
export class TokenVerificationError extends Error {
  override readonly name = 'TokenVerificationError';
  constructor(
    readonly failure: TokenFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface TokenVerifier {
  /** The verified token, or throws a `TokenVerificationError`. */
  verify(token: string): Promise<VerifiedToken>;
}

export const DEFAULT_ALGORITHMS: readonly string[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];
/** Asymmetric JWS algorithms that jose verifies; anything else cannot be allowlisted. */
const SUPPORTED_ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'ML-DSA-44',
  'ML-DSA-65',
  'ML-DSA-87',
]);
const DEFAULT_CLAIMS: ClaimMapping = { roles: 'roles', tenant: 'tenant_id', jurisdiction: 'jurisdiction' };
const DEFAULT_MAX_TOKEN_LENGTH = 8192;
const MAX_KID_LENGTH = 256;
/** Header parameters that name keys outside the issuer's key set: never fetched, never trusted. */
const KEY_REFERENCE_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
const TENANT_ID = RESOURCE_NAME;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** jose's remote JWKS settings: an unknown `kid` refetches at most once per cooldown. */
export const REMOTE_JWKS_OPTIONS = { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5_000 } as const;

type KeyResolver = (protectedHeader: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/** The issuer's key set could not be read (network, timeout, not a JWKS): not the caller's fault. */
class KeySetUnavailable extends Error {}

function fail(failure: TokenFailure, message: string, cause?: unknown): never {
  throw new TokenVerificationError(failure, message, cause === undefined ? undefined : { cause });
}

function normalizeType(value: string): string {
  const lower = value.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

function checkAlgorithms(algorithms: readonly string[]): string[] {
  if (algorithms.length === 0) throw new TypeError('token verifier: algorithms must not be empty');
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none' || /^HS/i.test(alg)) {
      throw new TypeError(`token verifier: algorithm "${alg}" is never accepted (symmetric or unsigned)`);
    }
    if (!SUPPORTED_ALGORITHMS.has(alg)) throw new TypeError(`token verifier: unsupported algorithm "${alg}"`);
  }
  return [...new Set(algorithms)];
}

function keyResolverFor(trusted: TrustedIssuer): KeyResolver {
  if (typeof trusted.issuer !== 'string' || trusted.issuer === '') {
    throw new TypeError('token verifier: every trusted issuer needs an issuer identifier');
  }
  if ((trusted.jwksUri === undefined) === (trusted.jwks === undefined)) {
    throw new TypeError(`token verifier: issuer ${trusted.issuer} needs exactly one of jwksUri or jwks`);
  }
  if (trusted.jwksUri !== undefined) {
    let url: URL;
    try {
      url = new URL(trusted.jwksUri);
    } catch {
      throw new TypeError(`token verifier: jwksUri of ${trusted.issuer} is not a URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
      throw new TypeError(`token verifier: jwksUri of ${trusted.issuer} must be https (http only on loopback)`);
    }
    return createRemoteJWKSet(url, REMOTE_JWKS_OPTIONS);
  }
  const keys = trusted.jwks!.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError(`token verifier: jwks of ${trusted.issuer} holds no key`);
  }
  if (keys.some((key) => key.kty === 'oct' || key.d !== undefined)) {
    throw new TypeError(`token verifier: jwks of ${trusted.issuer} must hold public keys only`);
  }
  return createLocalJWKSet({ keys });
}

/**
 * Resolves keys from the issuer's own set only. Failures to obtain the set (network, timeout,
 * invalid JWKS) are told apart from a `kid` that is not in it.
 */
function guarded(resolve: KeyResolver): KeyResolver {
  return async (protectedHeader, token) => {
    try {
      return await resolve(protectedHeader, token);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
      throw new KeySetUnavailable('key set unavailable', { cause: error });
    }
  };
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Maps jose's errors (by their stable `code`) to a failure with a message safe for the caller. */
function mapError(error: unknown): TokenVerificationError {
  if (error instanceof TokenVerificationError) return error;
  if (error instanceof KeySetUnavailable) {
    return new TokenVerificationError('unknown_key', "the issuer's signing keys are unavailable", { cause: error.cause });
  }
  const claim = (error as { claim?: unknown }).claim;
  const reason = (error as { reason?: unknown }).reason;
  const options = { cause: error };
  switch (codeOf(error)) {
    case 'ERR_JWT_EXPIRED':
      return claim === 'iat'
        ? new TokenVerificationError('too_old', 'token is too old', options)
        : new TokenVerificationError('expired', 'token has expired', options);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      switch (claim) {
        case 'nbf':
          return new TokenVerificationError('not_yet_valid', 'token is not valid yet', options);
        case 'iat':
          return reason === 'check_failed'
            ? new TokenVerificationError('not_yet_valid', 'token was issued in the future', options)
            : new TokenVerificationError('claims', 'token claim "iat" is invalid', options);
        case 'iss':
          return new TokenVerificationError('issuer', 'token issuer is not trusted', options);
        case 'aud':
          return new TokenVerificationError('audience', 'token is not meant for this audience', options);
        case 'typ':
          return new TokenVerificationError('type', 'token type is not an access token', options);
        default:
          return new TokenVerificationError(
            'claims',
            typeof claim === 'string' && /^[a-z]{1,16}$/.test(claim)
              ? `token claim "${claim}" is missing or invalid`
              : 'token claims are invalid',
            options,
          );
      }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new TokenVerificationError('algorithm', 'token algorithm is not accepted', options);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new TokenVerificationError('signature', 'token signature is invalid', options);
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return new TokenVerificationError('unknown_key', 'token signing key is unknown', options);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new TokenVerificationError('malformed', 'token is malformed', options);
    default:
      // e.g. an RSA key under 2048 bits, or a key that does not fit the algorithm.
      return new TokenVerificationError('signature', 'token could not be verified', options);
  }
}

function readRoles(payload: JWTPayload, claim: string): Role[] {
  const value = payload[claim];
  let names: string[];
  if (value === undefined || value === null) names = [];
  else if (typeof value === 'string') names = value.split(/\s+/);
  else if (Array.isArray(value)) names = value.filter((entry): entry is string => typeof entry === 'string');
  else fail('claims', `token claim "${claim}" must be a list of roles`);
  const known = new Set<string>(KNOWN_ROLES);
  return [...new Set(names.filter((name): name is Role => known.has(name)))];
}

function readOptionalString(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail('claims', `token claim "${claim}" must be a non-empty string`);
  return value;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (typeof options.audience !== 'string' || options.audience === '') {
    throw new TypeError('token verifier: audience is required');
  }
  if (!Array.isArray(options.issuers) || options.issuers.length === 0) {
    throw new TypeError('token verifier: at least one trusted issuer is required');
  }
  const algorithms = checkAlgorithms(options.algorithms ?? DEFAULT_ALGORITHMS);
  const allowedAlgorithms = new Set(algorithms);
  const clockTolerance = options.clockSkewSeconds ?? 30;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new TypeError('token verifier: clockSkewSeconds must be a non-negative number');
  }
  const maxTokenAge = options.maxTokenAgeSeconds;
  if (maxTokenAge !== undefined && !(Number.isFinite(maxTokenAge) && maxTokenAge > 0)) {
    throw new TypeError('token verifier: maxTokenAgeSeconds must be a positive number');
  }
  const maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  if (!Number.isInteger(maxTokenLength) || maxTokenLength <= 0) {
    throw new TypeError('token verifier: maxTokenLength must be a positive integer');
  }
  const allowedTypes = new Set((options.allowedTypes ?? ['at+jwt']).map(normalizeType));
  if (allowedTypes.size === 0) throw new TypeError('token verifier: allowedTypes must not be empty');
  const claims: ClaimMapping = { ...DEFAULT_CLAIMS, ...options.claims };

  // One key resolver per issuer, created once: jose's remote set caches and rate-limits refetches.
  const resolvers = new Map<string, KeyResolver>();
  for (const trusted of options.issuers) {
    if (resolvers.has(trusted.issuer)) throw new TypeError(`token verifier: issuer ${trusted.issuer} is listed twice`);
    resolvers.set(trusted.issuer, guarded(keyResolverFor(trusted)));
  }

  function checkHeader(token: string): void {
    let header: JWSHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWSHeaderParameters;
    } catch (error) {
      fail('malformed', 'token header is not valid', error);
    }
    if (typeof header.alg !== 'string') fail('malformed', 'token header has no algorithm');
    if (!allowedAlgorithms.has(header.alg)) fail('algorithm', 'token algorithm is not accepted');
    for (const name of KEY_REFERENCE_HEADERS) {
      if (Object.hasOwn(header, name)) fail('malformed', `token header must not carry "${name}"`);
    }
    if (Object.hasOwn(header, 'crit')) fail('malformed', 'token header must not carry "crit"');
    if (Object.hasOwn(header, 'kid')) {
      const kid: unknown = header.kid;
      if (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH || CONTROL_CHARACTERS.test(kid)) {
        fail('malformed', 'token key id is invalid');
      }
    }
    if (typeof header.typ !== 'string' || !allowedTypes.has(normalizeType(header.typ))) {
      fail('type', 'token type is not an access token');
    }
  }

  async function verifySignatureAndClaims(
    token: string,
    resolver: KeyResolver,
    verifyOptions: JWTVerifyOptions,
  ): Promise<{ payload: JWTPayload; protectedHeader: JWSHeaderParameters }> {
    try {
      return await jwtVerify(token, resolver, verifyOptions);
    } catch (error) {
      if (codeOf(error) !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
      // No `kid` and several keys fit the algorithm: try each (jose's documented pattern).
      for await (const key of error as AsyncIterable<CryptoKey>) {
        try {
          return await jwtVerify(token, key, verifyOptions);
        } catch (inner) {
          if (codeOf(inner) !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw inner;
        }
      }
      return fail('signature', 'token signature is invalid');
    }
  }

  return {
    async verify(token) {
      try {
        if (typeof token !== 'string' || token === '') fail('malformed', 'token is empty');
        if (token.length > maxTokenLength) fail('malformed', 'token is too long');
        const segments = token.split('.');
        if (segments.length !== 3) fail('malformed', 'token is not a compact JWS');
        if (!segments.every((segment) => BASE64URL.test(segment))) fail('malformed', 'token is not base64url');
        checkHeader(token);

        let unverified: JWTPayload;
        try {
          unverified = decodeJwt(token);
        } catch (error) {
          fail('malformed', 'token payload is not valid', error);
        }
        // The unverified `iss` only chooses the key set; jwtVerify then checks it against the allowlist.
        const issuer = typeof unverified.iss === 'string' ? unverified.iss : undefined;
        const resolver = issuer === undefined ? undefined : resolvers.get(issuer);
        if (issuer === undefined || resolver === undefined) fail('issuer', 'token issuer is not trusted');

        const verifyOptions: JWTVerifyOptions = {
          issuer,
          audience: options.audience,
          algorithms,
          clockTolerance,
          requiredClaims: ['sub', 'iss', 'aud', 'exp', 'iat'],
          ...(maxTokenAge === undefined ? {} : { maxTokenAge }),
        };
        const { payload, protectedHeader } = await verifySignatureAndClaims(token, resolver, verifyOptions);
        // The header checked above is the one that was signed; checked again for defence in depth.
        if (typeof protectedHeader.typ !== 'string' || !allowedTypes.has(normalizeType(protectedHeader.typ))) {
          fail('type', 'token type is not an access token');
        }

        if (typeof payload.sub !== 'string' || payload.sub === '') fail('claims', 'token claim "sub" is invalid');
        const now = Math.floor(Date.now() / 1000);
        const issuedAt = payload.iat!;
        if (issuedAt > now + clockTolerance) fail('not_yet_valid', 'token was issued in the future');
        const tenantId = readOptionalString(payload, claims.tenant);
        if (tenantId !== undefined && !TENANT_ID.test(tenantId)) fail('claims', `token claim "${claims.tenant}" is invalid`);
        const jurisdiction = readOptionalString(payload, claims.jurisdiction);
        const tokenId = payload.jti;
        if (tokenId !== undefined && typeof tokenId !== 'string') fail('claims', 'token claim "jti" is invalid');
        return {
          subject: payload.sub,
          issuer,
          roles: readRoles(payload, claims.roles),
          ...(tenantId === undefined ? {} : { tenantId }),
          ...(jurisdiction === undefined ? {} : { jurisdiction }),
          expiresAt: new Date(payload.exp! * 1000),
          issuedAt: new Date(issuedAt * 1000),
          ...(tokenId === undefined ? {} : { tokenId }),
        };
      } catch (error) {
        throw mapError(error);
      }
    },
  };
}
