import { startTestStack } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('CORS for configured portals', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack({ env: { CORS_ORIGINS: 'https://portal.example.eu' } });
  });
  afterAll(() => env.stop());

  it('answers preflights of a listed origin before authentication', async () => {
    const response = await fetch(`${env.url}/v1/tenants`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://portal.example.eu',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://portal.example.eu');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('exposes the API headers to a listed origin', async () => {
    const response = await fetch(`${env.url}/v1/tenants`, {
      headers: { origin: 'https://portal.example.eu', authorization: `Bearer ${env.adminToken}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://portal.example.eu');
    expect(response.headers.get('access-control-expose-headers')).toContain('x-ratelimit-remaining');
  });

  it('checklist 36: never reflects another origin, with or without credentials', async () => {
    for (const origin of ['https://evil.example', 'https://portal.example.eu.evil.example', 'null']) {
      const preflight = await fetch(`${env.url}/v1/tenants`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await fetch(`${env.url}/v1/tenants`, { headers: { origin, authorization: `Bearer ${env.adminToken}` } });
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
      expect(simple.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });
});
