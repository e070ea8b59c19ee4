import { createHash } from 'node:crypto';
import type { TokenVerifier, VerifiedToken } from './token-verifier';

const DEFAULT_MAX_ENTRIES = 10_000;

export interface RememberingTokenVerifierOptions {
  /** How long a verified token is remembered at most, in ms (0: never). */
  rememberMs: number;
  /** Refused once `iat` is older than this (as the verifier refuses); a remembered token never outlives it. */
  maxTokenAgeSeconds?: number;
  /** Tokens remembered at most; the oldest goes first. @default 10000 */
  maxEntries?: number;
  now?: () => number;
}

/**
 * `verifier`, remembering each token it accepted for `rememberMs` and never past the
 * token's own `exp` (nor its maximum age): the signature check (WebCrypto through jose)
 * was the largest single cost of a query after the federation hop itself. Keyed by the
 * SHA-256 of the whole token text, so the memory per token is fixed whatever its length;
 * refusals are never remembered (each is verified, and evidenced, again). A key removed
 * from an issuer's JWKS stops a token it signed after at most `rememberMs`.
 */
export function rememberingTokenVerifier(verifier: TokenVerifier, options: RememberingTokenVerifierOptions): TokenVerifier {
  if (options.rememberMs <= 0) return verifier;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const remembered = new Map<string, { token: VerifiedToken; until: number }>();
  return {
    async verify(token) {
      const key = typeof token === 'string' ? createHash('sha256').update(token).digest('base64') : '';
      const entry = key ? remembered.get(key) : undefined;
      if (entry && entry.until > now()) return entry.token;
      if (entry) remembered.delete(key);
      const verified = await verifier.verify(token);
      const verifiedAt = now();
      let until = Math.min(verifiedAt + options.rememberMs, verified.expiresAt.getTime());
      if (options.maxTokenAgeSeconds !== undefined)
        until = Math.min(until, verified.issuedAt.getTime() + options.maxTokenAgeSeconds * 1000);
      if (key && until > verifiedAt) {
        remembered.set(key, { token: verified, until });
        if (remembered.size > maxEntries) {
          const oldest = remembered.keys().next();
          if (!oldest.done) remembered.delete(oldest.value);
        }
      }
      return verified;
    },
  };
}
