import { createRemoteJWKSet, jwtVerify } from 'jose';
import { DEV_ISSUER } from '../../lib/auth/dev-issuer';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('REST surface and authentication', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack();
  });
  afterAll(() => env.stop());

  const rest = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${env.url}${path}`, {
      ...init,
      headers: {
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
    });

  it("describes the development issuer at the OpenAPI document's openIdConnectUrl, with a key set that verifies its tokens", async () => {
    const openApi = (await (await rest('/v1/openapi.json')).json()) as {
      components: { securitySchemes: { oidc: { openIdConnectUrl: string } } };
    };
    const discovery = (await (await rest(openApi.components.securitySchemes.oidc.openIdConnectUrl)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: DEV_ISSUER, id_token_signing_alg_values_supported: ['ES256'] });
    const token = await env.token('auditor');
    const keys = createRemoteJWKSet(new URL(String(discovery.jwks_uri)));
    await expect(jwtVerify(token, keys, { issuer: String(discovery.issuer) })).resolves.toMatchObject({ payload: { iss: DEV_ISSUER } });
  });

  it('reaches nothing but health, readiness, keys and token discovery without authentication', async () => {
    for (const path of ['/healthz', '/readyz', '/.well-known/jwks.json', '/.well-known/openid-configuration']) {
      expect((await rest(path)).status).toBe(200);
    }
    for (const [method, path] of [
      ['GET', '/graphql?query=%7B__typename%7D'],
      ['POST', '/graphql'],
      ['GET', '/v1/tenants'],
      ['POST', '/v1/tenants'],
      ['GET', '/v1/authority-bindings'],
      ['GET', '/metrics'],
    ]) {
      const response = await rest(path!, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect({ path, status: response.status }).toEqual({ path, status: 401 });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await response.json()) as Record<string, unknown>;
      const error = path!.startsWith('/graphql') ? (body.errors as Array<{ extensions: Record<string, unknown> }>)[0]!.extensions : body;
      expect(error.code).toBe('ECS_UNAUTHENTICATED');
      expect(error.evidence_pointer).toMatch(/^eosc:\/\/evidence\/sha256:/);
    }
  });

  it('creates, lists and reads authority bindings at /v1/authority-bindings', async () => {
    const id = uniqueId('auth');
    const body = {
      id,
      subject: 'acme-board',
      scope: ['workload.deploy'],
      issuer: 'urn:acme',
      valid_from: new Date(Date.now() - 1000).toISOString(),
      valid_until: new Date(Date.now() + 86_400_000).toISOString(),
      proof_ref: 'minutes-2026-11',
    };
    const created = await rest('/v1/authority-bindings', { method: 'POST', body: JSON.stringify(body), token: env.adminToken });
    expect(created.status).toBe(201);
    const binding = (await created.json()) as Record<string, unknown>;
    expect(binding).toMatchObject({
      id,
      version: 1,
      scope: ['workload.deploy'],
      authority_snapshot_id: expect.stringMatching(/^authsnap:sha256:/),
    });
    const read = await rest(`/v1/authority-bindings/${id}`, { token: await env.token('reader', 'acme') });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id, versions: [{ version: 1 }] });
    const listed = (await (await rest('/v1/authority-bindings?limit=1000', { token: env.adminToken })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(listed.items.map((item) => item.id)).toEqual(expect.arrayContaining(['auth-dev-001', id]));
    const missing = await rest('/v1/authority-bindings/nope', { token: env.adminToken });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: 'ECS_NOT_FOUND', message: 'authority binding nope not found' });
    const forbidden = await rest('/v1/authority-bindings', {
      method: 'POST',
      body: JSON.stringify({ ...body, id: uniqueId() }),
      token: await env.token('tenant-admin', 'acme'),
    });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.stringMatching(/^eosc:/) });
  });

  it('bounds the evidence of an unauthenticated flood', async () => {
    const count = async () => env.stack.services.db.prisma.evidenceEvent.count({ where: { chainId: 'ecs:platform' } });
    const before = await count();
    const responses = await Promise.all(Array.from({ length: 300 }, () => rest('/v1/tenants')));
    expect(responses.every((response) => response.status === 401)).toBe(true);
    const pointers = await Promise.all(
      responses.map(async (response) => ((await response.json()) as { evidence_pointer: string }).evidence_pointer),
    );
    expect(pointers.every((pointer) => /^eosc:\/\/evidence\/sha256:/.test(pointer))).toBe(true);
    // One source, one reason, one window: a handful of events at most, however many requests.
    expect((await count()) - before).toBeLessThanOrEqual(2);
  });
});
