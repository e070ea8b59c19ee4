import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { authenticate, identify } from '../gateway/authenticate';
import type { AuthenticatorOptions, Identify } from '../gateway/authenticate';
import { createApiKeyLookup } from '../gateway/api-key-lookup';
import { loadDevIssuer } from '../lib/auth/dev-issuer';
import type { DevIssuer } from '../lib/auth/dev-issuer';
import { rememberingTokenVerifier } from '../lib/auth/remembering-token-verifier';
import { createTokenVerifier } from '../lib/auth/token-verifier';
import type { TrustedIssuer } from '../lib/auth/token-verifier';
import type { Config, Plane } from '../lib/config/config';
import { createPlaneClient } from '../lib/subgraph/plane-client';
import type { PlaneFetch } from '../lib/subgraph/plane-client';
import type { SharedServices } from './shared-services';

export interface GatewayAuth {
  authenticate: ReturnType<typeof authenticate>;
  /** Authenticates a websocket's `connection_init` credentials. */
  identify: Identify;
  /** The development issuer, when enabled (its public keys join /.well-known/jwks.json). */
  devIssuer: DevIssuer | undefined;
}

/** Builds the gateway's authentication from the configuration: trusted issuers and API keys. */
export async function createGatewayAuth(config: Config, services: SharedServices, urlOf: (plane: Plane) => string): Promise<GatewayAuth> {
  const issuers: TrustedIssuer[] = [];
  const devIssuer = config.devIssuer.enabled ? await loadDevIssuer(config.devIssuer.keyFile) : undefined;
  if (devIssuer) issuers.push({ issuer: devIssuer.issuer, jwks: devIssuer.jwks });
  const { oidc } = config;
  if (oidc.issuer) {
    if (oidc.jwksFile) {
      const jwks = JSON.parse(await readFile(oidc.jwksFile, 'utf8')) as { keys: JWK[] };
      issuers.push({ issuer: oidc.issuer, jwks });
    } else {
      issuers.push({ issuer: oidc.issuer, jwksUri: oidc.jwksUri! });
    }
  }
  const verifier = rememberingTokenVerifier(
    createTokenVerifier({
      issuers,
      audience: oidc.audience,
      algorithms: [...new Set([...oidc.algorithms, ...(devIssuer ? ['ES256'] : [])])],
      allowedTypes: oidc.tokenTypes,
      clockSkewSeconds: oidc.clockSkewSeconds,
      maxTokenAgeSeconds: oidc.maxTokenAgeSeconds,
      claims: oidc.claims,
    }),
    { rememberMs: config.tokenCacheMs, maxTokenAgeSeconds: oidc.maxTokenAgeSeconds },
  );
  const lookupApiKey = createApiKeyLookup(
    (requestId) =>
      createPlaneClient({
        self: 'gateway',
        urlOf,
        fetch: services.fetcher as unknown as PlaneFetch,
        timeoutMs: config.subgraphTimeoutMs,
        requestId,
        correlationId: requestId,
        identityTokens: services.identityTokens,
      }),
    config.apiKeyCacheMs,
  );
  const options: AuthenticatorOptions = { verifier, lookupApiKey, throttle: services.throttle };
  return { authenticate: authenticate(options), identify: identify(options), devIssuer };
}
