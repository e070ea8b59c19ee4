import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('deprecated unversioned paths', () => {
  let env: TestStack;
  const tenant = uniqueId('t');
  beforeAll(async () => {
    env = await startTestStack({ env: { API_SUNSET: '2028-01-31' } });
    await env.gql(CREATE_TENANT, { input: tenantInput(tenant) });
  });
  afterAll(() => env.stop());

  it('serve the /v1 routes with Deprecation, Sunset and a successor Link', async () => {
    const headers = { authorization: `Bearer ${env.adminToken}` };
    const current = await fetch(`${env.url}/v1/tenants/${tenant}`, { headers });
    const legacy = await fetch(`${env.url}/tenants/${tenant}`, { headers });
    expect(legacy.status).toBe(200);
    expect(await legacy.json()).toEqual(await current.json());
    expect(legacy.headers.get('deprecation')).toMatch(/^@\d+$/);
    expect(legacy.headers.get('sunset')).toBe('Mon, 31 Jan 2028 00:00:00 GMT');
    expect(legacy.headers.get('link')).toBe(`</v1/tenants/${tenant}>; rel="successor-version"`);
    expect(current.headers.get('deprecation')).toBeNull();
    for (const path of [`/workloads?tenant=${tenant}`, '/events?limit=1']) {
      const response = await fetch(`${env.url}${path}`, { headers });
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect(response.headers.get('sunset')).toBe('Mon, 31 Jan 2028 00:00:00 GMT');
    }
    const unauthenticated = await fetch(`${env.url}/tenants`);
    expect(unauthenticated.status).toBe(401);
    expect((await fetch(`${env.url}/v2/tenants`, { headers })).status).toBe(404);
  });

  it('are listed as deprecated in the OpenAPI document', async () => {
    const document = (await (await fetch(`${env.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { deprecated?: boolean }>>;
    };
    expect(document.paths['/tenants/{id}']!.get!.deprecated).toBe(true);
    expect(document.paths['/v1/tenants/{id}']!.get!.deprecated).toBeUndefined();
  });
});
