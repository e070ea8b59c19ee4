// Access tokens from a real OpenID Provider (oidc-provider, client credentials, RFC 9068 JWT
// access tokens) verified by the gateway's token verifier through the provider's JWKS endpoint.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTokenVerifier } from '../../lib/auth/token-verifier';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { OIDC_AUDIENCE, OIDC_CLIENT_ID, startOidcServer } from '../support/oidc-server';
import type { OidcServer } from '../support/oidc-server';

describe('tokens from a real OpenID Provider', () => {
  let provider: OidcServer;

  beforeAll(async () => {
    provider = await startOidcServer({ roles: ['auditor', 'provider-operator'], tenantId: 'acme' });
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it('issues an RS256 at+jwt access token for the ecs-gateway audience with the extra claims', async () => {
    const token = await provider.getToken();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: expect.any(String) });
    expect(decodeJwt(token)).toMatchObject({
      iss: provider.issuer,
      aud: OIDC_AUDIENCE,
      sub: OIDC_CLIENT_ID,
      client_id: OIDC_CLIENT_ID,
      roles: ['auditor', 'provider-operator'],
      tenant_id: 'acme',
      scope: 'ecs',
    });
    expect(provider.jwksUri).toBe(`${provider.issuer}/jwks`);
  });

  it('verifies the token with the issuer and jwks_uri from discovery', async () => {
    const verifier = createTokenVerifier({
      issuers: [{ issuer: provider.issuer, jwksUri: provider.jwksUri }],
      audience: 'ecs-gateway',
    });
    const token = await provider.getToken();
    const verified = await verifier.verify(token);
    const claims = decodeJwt(token);
    expect(verified).toEqual({
      subject: OIDC_CLIENT_ID,
      issuer: provider.issuer,
      roles: ['auditor'],
      tenantId: 'acme',
      expiresAt: new Date(claims.exp! * 1000),
      issuedAt: new Date(claims.iat! * 1000),
      tokenId: claims.jti,
    });
    expect(claims.exp! - claims.iat!).toBe(300);
    // A second token reuses the cached key set.
    await expect(verifier.verify(await provider.getToken())).resolves.toMatchObject({ subject: OIDC_CLIENT_ID });
  });

  it('refuses the same token for another audience or issuer, or with a changed claim', async () => {
    const token = await provider.getToken();
    const otherAudience = createTokenVerifier({
      issuers: [{ issuer: provider.issuer, jwksUri: provider.jwksUri }],
      audience: 'billing-api',
    });
    await expect(otherAudience.verify(token)).rejects.toMatchObject({ failure: 'audience' });
    const otherIssuer = createTokenVerifier({
      issuers: [{ issuer: `${provider.issuer}/other`, jwksUri: provider.jwksUri }],
      audience: 'ecs-gateway',
    });
    await expect(otherIssuer.verify(token)).rejects.toMatchObject({ failure: 'issuer' });
    const verifier = createTokenVerifier({
      issuers: [{ issuer: provider.issuer, jwksUri: provider.jwksUri }],
      audience: 'ecs-gateway',
    });
    const [header, , signature] = token.split('.') as [string, string, string];
    const escalated = { ...decodeJwt(token), roles: ['platform-admin'] };
    const forged = `${header}.${Buffer.from(JSON.stringify(escalated)).toString('base64url')}.${signature}`;
    await expect(verifier.verify(forged)).rejects.toMatchObject({ failure: 'signature' });
  });

  it('issues tokens without roles or tenant when none are configured', async () => {
    const plain = await startOidcServer();
    try {
      const verifier = createTokenVerifier({ issuers: [{ issuer: plain.issuer, jwksUri: plain.jwksUri }], audience: 'ecs-gateway' });
      const verified = await verifier.verify(await plain.getToken());
      expect(verified).toMatchObject({ subject: OIDC_CLIENT_ID, roles: [] });
      expect(verified).not.toHaveProperty('tenantId');
      // Each provider has its own key: a token of one does not verify as the other.
      const crossed = createTokenVerifier({ issuers: [{ issuer: provider.issuer, jwksUri: plain.jwksUri }], audience: 'ecs-gateway' });
      await expect(crossed.verify(await provider.getToken())).rejects.toMatchObject({ failure: 'signature' });
    } finally {
      await plain.stop();
    }
  });
});

describe('the gateway trusting a real OpenID Provider', () => {
  let provider: OidcServer;
  let env: TestStack;

  beforeAll(async () => {
    provider = await startOidcServer({ roles: ['platform-admin'] });
    env = await startTestStack({ env: { OIDC_ISSUER: provider.issuer, OIDC_JWKS_URI: provider.jwksUri } });
  });

  afterAll(async () => {
    await env?.stop();
    await provider?.stop();
  });

  it("sends clients that follow the OpenAPI document's openIdConnectUrl to the provider's discovery document", async () => {
    const openApi = (await (await fetch(`${env.url}/v1/openapi.json`)).json()) as {
      components: { securitySchemes: { oidc: { openIdConnectUrl: string } } };
    };
    const discoveryUrl = new URL(openApi.components.securitySchemes.oidc.openIdConnectUrl, env.url);
    const redirect = await fetch(discoveryUrl, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, `${provider.issuer}/.well-known/openid-configuration`]);
    const followed = (await (await fetch(discoveryUrl)).json()) as { issuer: string; jwks_uri: string };
    expect(followed).toMatchObject({ issuer: provider.issuer, jwks_uri: provider.jwksUri });
  });

  it('accepts its access tokens end to end, through every plane', async () => {
    const token = await provider.getToken();
    const who = await env.gqlAs<{ whoami: Record<string, unknown> }>(token, '{ whoami { subject roles authMethod tenantId } }');
    expect(who.errors).toBeUndefined();
    expect(who.data!.whoami).toEqual({ subject: OIDC_CLIENT_ID, roles: ['platform-admin'], authMethod: 'oidc', tenantId: null });
    // With an external issuer nothing is seeded: the platform records its own authority first.
    const binding = await env.gqlAs(token, `mutation($i: CreateAuthorityBindingInput!) { createAuthorityBinding(input: $i) { id } }`, {
      i: {
        id: 'board-2026',
        subject: 'acme-board',
        scopes: ['tenant.create'],
        issuer: provider.issuer,
        validFrom: new Date(Date.now() - 1000).toISOString(),
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      },
    });
    expect(binding.errors).toBeUndefined();
    const created = await env.gqlAs<{ createTenant: { id: string } }>(token, CREATE_TENANT, {
      input: tenantInput(uniqueId(), { authorityBinding: 'board-2026' }),
    });
    expect(created.errors).toBeUndefined();
    const seeded = await env.gqlAs<{ authorityBinding: unknown }>(token, '{ authorityBinding(id: "auth-dev-001") { id } }');
    expect(seeded.data!.authorityBinding).toBeNull();
  });

  it('no longer trusts the development issuer once an external issuer is configured', async () => {
    const devToken = await env.token('platform-admin');
    const refused = await env.gqlAs(devToken, '{ whoami { subject } }');
    expect(refused.status).toBe(401);
    const jwks = (await (await fetch(`${env.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ alg: string }> };
    expect(jwks.keys.map((key) => key.alg)).toEqual(['EdDSA']);
  });
});
