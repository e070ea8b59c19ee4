import type { RequestHandler } from 'express';
import { notFound } from '../lib/http/error-body';

/** Who issues the tokens this gateway accepts, as its discovery route tells clients. */
export type TokenIssuerDiscovery =
  /** An external OpenID Provider: its own discovery document is the truth. */
  | { kind: 'external'; issuer: string }
  /** The development issuer: a local key, tokens minted by `ecs token`. */
  | { kind: 'development'; issuer: string; algorithms: readonly string[] }
  | { kind: 'none' };

/**
 * `GET /.well-known/openid-configuration`, which the OpenAPI document names as the `oidc`
 * security scheme's `openIdConnectUrl`. With an external provider, a redirect to its discovery
 * document (OpenID Connect Discovery 1.0, section 4: at the issuer URL); with the
 * development issuer, a document of its own naming the issuer, the key set the gateway serves
 * and how tokens are obtained. The development issuer has no authorization or token endpoint,
 * so it is no OpenID Provider a standard client can sign in with; the document says so.
 */
export function openIdConfiguration(discovery: TokenIssuerDiscovery): RequestHandler {
  return (req, res) => {
    if (discovery.kind === 'external') {
      res.redirect(302, `${discovery.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
      return;
    }
    if (discovery.kind === 'none') return notFound(req, res);
    const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    res.setHeader('cache-control', 'public, max-age=300');
    res.json({
      issuer: discovery.issuer,
      jwks_uri: `${origin}/.well-known/jwks.json`,
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: discovery.algorithms,
      token_endpoint_auth_methods_supported: ['none'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'jti', 'roles', 'tenant_id', 'jurisdiction'],
      service_documentation:
        'development issuer: tokens are minted locally with `npx ecs token --role <role> [--tenant <id>]`; configure OIDC_ISSUER for a real provider',
    });
  };
}
