import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const WHOAMI = '{ whoami { subject } }';

describe('rate limits', () => {
  describe('per principal', () => {
    let env: TestStack;
    beforeAll(async () => {
      env = await startTestStack({ env: { RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000' } });
    });
    afterAll(() => env.stop());

    it('counts down in headers on every response, then answers 429 with Retry-After and the error body', async () => {
      const token = await env.token('reader', 'acme', { subject: uniqueId('user') });
      const remaining: string[] = [];
      for (let n = 0; n < 5; n += 1) {
        const response = await fetch(`${env.url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(200);
        expect(response.headers.get('x-ratelimit-limit')).toBe('5');
        expect(Number(response.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
        remaining.push(response.headers.get('x-ratelimit-remaining')!);
      }
      expect(remaining).toEqual(['4', '3', '2', '1', '0']);
      const limited = await fetch(`${env.url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await limited.json()).toEqual({ code: 'ECS_RATE_LIMITED', message: expect.any(String) });
      // GraphQL shares the same budget.
      expect((await env.gqlAs(token, WHOAMI)).status).toBe(429);
      // Another principal has its own.
      const other = await env.token('reader', 'acme', { subject: uniqueId('user') });
      expect((await env.gqlAs(other, WHOAMI)).status).toBe(200);
    });
  });

  describe('per client address, before authentication', () => {
    let env: TestStack;
    beforeAll(async () => {
      env = await startTestStack({ env: { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '4' } });
    });
    afterAll(() => env.stop());

    it('limits unauthenticated callers by address', async () => {
      const statuses: number[] = [];
      for (let n = 0; n < 6; n += 1) statuses.push((await fetch(`${env.url}/v1/tenants`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
      expect((await fetch(`${env.url}/healthz`)).status).toBe(200);
    });
  });
});
