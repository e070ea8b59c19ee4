import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { Unauthenticated, authenticate, identifyCaller, recordUnauthenticated } from '../../gateway/authenticate';
import type { AuthenticatorOptions, PresentedCredentials } from '../../gateway/authenticate';
import type { Caller } from '../auth/caller';
import type { Logger } from '../logger';
import { createApiKeyLookup } from '../../gateway/api-key-lookup';
import { loadDevIssuer } from '../auth/dev-issuer';
import type { DevIssuer } from '../auth/dev-issuer';
import { createTokenVerifier } from '../auth/token-verifier';
import type { TrustedIssuer } from '../auth/token-verifier';
import type { Config, Plane } from '../config/config';
import { createPlaneClient } from '../subgraph/plane-client';
import type { PlaneFetch } from '../subgraph/plane-client';
import type { SharedServices } from './shared-services';

/** The outcome of authenticating credentials presented outside HTTP headers. */
export type Identification =
  | { ok: true; caller: Caller }
  | { ok: false; reasonCode: string; message: string; evidencePointer: string | undefined };

export interface GatewayAuth {
  authenticate: ReturnType<typeof authenticate>;
  /**
   * Authenticates credentials from elsewhere than the request headers (a websocket's
   * `connection_init`), recording a refusal as evidence the same way as for HTTP.
   */
  identify(
    credentials: PresentedCredentials,
    request: { address: string | undefined; subject: string; correlationId: string; log: Logger },
  ): Promise<Identification>;
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
  const verifier = createTokenVerifier({
    issuers,
    audience: oidc.audience,
    algorithms: [...new Set([...oidc.algorithms, ...(devIssuer ? ['ES256'] : [])])],
    allowedTypes: oidc.tokenTypes,
    clockSkewSeconds: oidc.clockSkewSeconds,
    maxTokenAgeSeconds: oidc.maxTokenAgeSeconds,
    claims: oidc.claims,
  });
  const lookupApiKey = createApiKeyLookup((requestId) =>
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
  const identify: GatewayAuth['identify'] = async (credentials, request) => {
    try {
      return { ok: true, caller: await identifyCaller(credentials, request.correlationId, options) };
    } catch (error) {
      if (!(error instanceof Unauthenticated)) throw error;
      const evidencePointer = await recordUnauthenticated(options, error, request);
      return { ok: false, reasonCode: error.reasonCode, message: error.message, evidencePointer };
    }
  };
  return { authenticate: authenticate(options), identify, devIssuer };
}
