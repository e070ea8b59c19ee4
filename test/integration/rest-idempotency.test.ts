import { startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('Idempotency-Key on POST routes', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack();
  });
  afterAll(() => env.stop());

  const post = (body: unknown, key?: string, token = env.adminToken) =>
    fetch(`${env.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });

  it('replays the first response for a retry with the same key and body, without a second action', async () => {
    const id = uniqueId();
    const input = tenantInput(id);
    const body = { id, authority_binding: input.authorityBinding, jurisdiction: 'DE', policy_baseline: input.policyBaseline };
    const key = `create-${id}`;
    const first = await post(body, key);
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    const retry = await post(body, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.json()).toEqual(firstBody);
    const events = await env.stack.services.db.prisma.evidenceEvent.count({ where: { tenantId: id, eventType: 'tenant.create' } });
    expect(events).toBe(1);

    const other = await post({ ...body, jurisdiction: 'FR' }, key);
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ code: 'ECS_IDEMPOTENCY_KEY_REUSED' });

    // Without the key, the same request is a second attempt (a conflict here).
    expect((await post(body)).status).toBe(409);
  });

  it('keeps keys per principal, releases a key whose first attempt failed, and rejects malformed keys', async () => {
    const id = uniqueId();
    const body = { id, authority_binding: 'no-such-binding', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' };
    const failed = await post(body, 'shared-key-1');
    expect(failed.status).toBe(400);
    const fixed = await post({ ...body, authority_binding: 'auth-dev-001' }, 'shared-key-1');
    expect(fixed.status).toBe(201);
    const otherAdmin = await env.token('platform-admin', undefined, { subject: 'second-admin' });
    const elsewhere = await post({ ...body, id: uniqueId(), authority_binding: 'auth-dev-001' }, 'shared-key-1', otherAdmin);
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.headers.get('idempotent-replayed')).toBeNull();
    const malformed = await post({ ...body, id: uniqueId() }, 'bad key with spaces');
    expect(malformed.status).toBe(400);
  });
});
