import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('rate limits shared by two gateway replicas on PostgreSQL', () => {
  let first: TestStack;
  let second: TestStack;
  beforeAll(async () => {
    const env = { RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000' };
    first = await startTestStack({ env });
    second = await startTestStack({ env, replicaOf: first });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('counts one principal across both', async () => {
    const token = await first.token('reader', 'acme', { subject: uniqueId('user') });
    const statuses: number[] = [];
    for (let n = 0; n < 8; n += 1) {
      const replica = n % 2 === 0 ? first : second;
      statuses.push((await fetch(`${replica.url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
  });
});
