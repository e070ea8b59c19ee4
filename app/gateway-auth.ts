import { readFile } from 'node:fs/promises';
import type { RequestHandler } from 'express';
import type { JWK } from 'jose';
import { authenticate, identify } from '../gateway/authenticate';
import type { AuthenticatorOptions, Identify } from '../gateway/authenticate';
import { createApiKeyLookup } from '../gateway/api-key-lookup';
import { s3Authenticate } from '../gateway/s3-authenticate';
import { createS3CredentialLookup } from '../gateway/s3-credential-lookup';
import { loadDevIssuer } from '../lib/auth/dev-issuer';
import type { DevIssuer } from '../lib/auth/dev-issuer';
import { rememberingTokenVerifier } from '../lib/auth/remembering-token-verifier';
import { createTokenVerifier } from '../lib/auth/token-verifier';
import type { TrustedIssuer } from '../lib/auth/token-verifier';
import type { Config, Plane } from '../lib/config/config';
import { createPlaneClient } from '../lib/subgraph/plane-client';
import { fromS3Error, sendS3Error } from '../rest-adapter/s3/s3-error-document';
import type { PlaneFetch } from '../lib/subgraph/plane-client';
import type { SharedServices } from './shared-services';

export interface GatewayAuth {
  /** Bearer tokens and API keys; SigV4 signatures on the S3 endpoint's paths. */
  authenticate: RequestHandler;
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
  const planeClient = (requestId: string) =>
    createPlaneClient({
      self: 'gateway',
      urlOf,
      fetch: services.fetcher as unknown as PlaneFetch,
      timeoutMs: config.subgraphTimeoutMs,
      requestId,
      correlationId: requestId,
      identityTokens: services.identityTokens,
    });
  const lookupApiKey = createApiKeyLookup(planeClient, config.apiKeyCacheMs);
  const options: AuthenticatorOptions = { verifier, lookupApiKey, throttle: services.throttle };
  const byHeaders = authenticate(options);
  // S3 requests carry SigV4 signatures instead of bearer tokens or API keys.
  const bySignature = s3Authenticate({
    findCredential: createS3CredentialLookup(planeClient, config.apiKeyCacheMs),
    region: config.s3.region,
    throttle: services.throttle,
    refuse: (res, error, pointer) => sendS3Error(res, fromS3Error(error, pointer), res.req.path),
  });
  const s3Prefix = config.s3.pathPrefix;
  const either: RequestHandler = (req, res, next) => {
    const path = req.originalUrl.split('?')[0]!;
    (path === s3Prefix || path.startsWith(`${s3Prefix}/`) ? bySignature : byHeaders)(req, res, next);
  };
  return { authenticate: either, identify: identify(options), devIssuer };
}
