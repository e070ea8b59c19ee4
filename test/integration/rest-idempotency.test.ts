import type { Caller } from '../../lib/auth/caller';
import { DEV_ISSUER, devIssuerFile, loadDevIssuer } from '../../lib/auth/dev-issuer';
import { idempotencyPrincipal } from '../../rest-adapter/idempotency';
import { chainEvents } from '../support/chain-events';
import { CREATE_TENANT, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('Idempotency-Key on POST routes', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack({ env: { IDEMPOTENCY_SWEEP_INTERVAL_MS: '200' } });
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

  it('forgets keys once their 24 hours are over: the gateway sweeps them, finished or abandoned, and keeps the rest', async () => {
    const records = env.stack.services.db.prisma.idempotencyRecord;
    const principal = `sweep-${uniqueId()}`;
    const day = 24 * 3600 * 1000;
    await records.createMany({
      data: [
        { principal, key: 'old-finished', requestHash: 'h', status: 201, response: '{}', createdAt: new Date(Date.now() - day - 60_000) },
        { principal, key: 'old-abandoned', requestHash: 'h', status: null, createdAt: new Date(Date.now() - day - 60_000) },
        { principal, key: 'recent', requestHash: 'h', status: 201, response: '{}', createdAt: new Date(Date.now() - day + 3_600_000) },
      ],
    });
    const deadline = Date.now() + 10_000;
    let keys: string[] = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      keys = (await records.findMany({ where: { principal }, select: { key: true } })).map((record) => record.key);
    } while (keys.length > 1 && Date.now() < deadline);
    expect(keys).toEqual(['recent']);
  });
});

describe('security checklist: Idempotency-Key replays', () => {
  let env: TestStack;
  const tenantA = uniqueId('t');
  const tenantB = uniqueId('t');
  const tenantC = uniqueId('t');
  const subject = `someone-${uniqueId('s')}`;
  const CREATE_KEY = `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }`;

  beforeAll(async () => {
    env = await startTestStack();
    for (const id of [tenantA, tenantB, tenantC]) expect((await env.gql(CREATE_TENANT, { input: tenantInput(id) })).errors).toBeUndefined();
  });
  afterAll(() => env.stop());

  /** A development-issuer token with any roles (the stack's helper mints one role). */
  async function tokenWith(roles: string[], tenantId: string | undefined): Promise<string> {
    const issuer = await loadDevIssuer(devIssuerFile(env.dataDir));
    return issuer.mint({ subject, roles, ...(tenantId ? { tenantId } : {}), audience: 'ecs-gateway', ttlSeconds: 600 });
  }

  const workload = (tenantId: string) => ({ tenant_id: tenantId, envelope_type: 'container', image_ref: PINNED_IMAGE, jurisdiction: 'DE' });

  async function post(path: string, body: unknown, key: string, credential: string | { apiKey: string }) {
    const response = await fetch(`${env.url}${path}`, {
      method: 'POST',
      headers: {
        ...(typeof credential === 'string' ? { authorization: `Bearer ${credential}` } : { 'x-api-key': credential.apiKey }),
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  const workloadCount = (tenantId: string) => env.stack.services.db.prisma.workload.count({ where: { tenantId } });

  async function expectChainValid(tenantId: string) {
    const verified = await env.gql<{ verifyChain: { valid: boolean } }>('query($t: ID!) { verifyChain(tenantId: $t) { valid } }', {
      t: tenantId,
    });
    expect(verified.data!.verifyChain.valid).toBe(true);
  }

  it("checklist 65: the same subject with a reader token of another tenant gets no replay of a tenant-admin's write, but a refusal with evidence", async () => {
    const key = `deploy-${uniqueId()}`;
    const admin = await tokenWith(['tenant-admin'], tenantA);
    const first = await post('/v1/workloads', workload(tenantA), key, admin);
    expect(first.status).toBe(201);
    const before = await chainEvents(env, tenantA);

    const reader = await tokenWith(['reader'], tenantB);
    const other = await post('/v1/workloads', workload(tenantA), key, reader);
    expect(other.replayed).toBeNull();
    expect(other.status).toBe(403);
    expect(other.body).toEqual({
      code: 'ECS_FORBIDDEN',
      message: expect.any(String),
      evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:[0-9a-f]{64}$/),
    });
    expect(JSON.stringify(other.body)).not.toContain(String(first.body.id));
    const after = await chainEvents(env, tenantA);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({
      outcome: 'refused',
      evidencePointer: other.body.evidence_pointer,
      refusalSubject: 'workload.deploy',
    });
    expect(await workloadCount(tenantA)).toBe(1);
    await expectChainValid(tenantA);
  });

  it('checklist 65: tokens are keyed by the whole principal (other roles of the same subject and tenant get no replay) and API keys by key id; the same principal still gets its replay', async () => {
    const key = `deploy-${uniqueId()}`;
    const admin = await tokenWith(['tenant-admin'], tenantA);
    const first = await post('/v1/workloads', workload(tenantA), key, admin);
    expect(first.status).toBe(201);
    const count = await workloadCount(tenantA);

    const moreRoles = await post('/v1/workloads', workload(tenantA), key, await tokenWith(['tenant-admin', 'reader'], tenantA));
    expect([moreRoles.status, moreRoles.replayed]).toEqual([201, null]);
    expect(moreRoles.body.id).not.toBe(first.body.id);
    expect(await workloadCount(tenantA)).toBe(count + 1);

    // A fresh token with the same claims is the same principal: replayed, no new action.
    const again = await post('/v1/workloads', workload(tenantA), key, await tokenWith(['tenant-admin'], tenantA));
    expect([again.status, again.replayed, again.body]).toEqual([201, 'true', first.body]);
    expect(await workloadCount(tenantA)).toBe(count + 1);

    const keys = [];
    for (const name of ['ci-1', 'ci-2']) {
      const created = await env.gqlAs<{ createApiKey: { secret: string } }>(admin, CREATE_KEY, {
        i: { tenantId: tenantA, name, scopes: ['workload.deploy'] },
      });
      expect(created.errors).toBeUndefined();
      keys.push({ apiKey: created.data!.createApiKey.secret });
    }
    const byKey = await post('/v1/workloads', workload(tenantA), key, keys[0]!);
    expect([byKey.status, byKey.replayed]).toEqual([201, null]);
    const byOtherKey = await post('/v1/workloads', workload(tenantA), key, keys[1]!);
    expect([byOtherKey.status, byOtherKey.replayed]).toEqual([201, null]);
    expect(byOtherKey.body.id).not.toBe(byKey.body.id);
    const byKeyAgain = await post('/v1/workloads', workload(tenantA), key, keys[0]!);
    expect([byKeyAgain.status, byKeyAgain.replayed, byKeyAgain.body]).toEqual([201, 'true', byKey.body]);
    await expectChainValid(tenantA);
  });

  it("checklist 65: a stored response is replayed only to a caller who may perform the route's action on its tenant now; otherwise 403 with evidence", async () => {
    const key = `suspend-${uniqueId()}`;
    const suspended = await post(`/v1/tenants/${tenantC}/suspend`, {}, key, await tokenWith(['platform-admin'], undefined));
    expect(suspended.status).toBe(202);
    // The stored response filed under a reader of that tenant, as a keying that did not tell
    // them apart would: the replay is still authorized as a new request would be.
    const readerCaller: Caller = { subject, roles: ['reader'], tenantId: tenantC, authMethod: 'dev-issuer', issuer: DEV_ISSUER };
    const moved = await env.stack.services.db.prisma.idempotencyRecord.updateMany({
      where: { key },
      data: { principal: idempotencyPrincipal(readerCaller) },
    });
    expect(moved.count).toBe(1);
    const before = await chainEvents(env, tenantC);

    const replay = await post(`/v1/tenants/${tenantC}/suspend`, {}, key, await tokenWith(['reader'], tenantC));
    expect(replay.replayed).toBeNull();
    expect(replay.status).toBe(403);
    expect(replay.body).toEqual({
      code: 'ECS_FORBIDDEN',
      message: expect.any(String),
      evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:[0-9a-f]{64}$/),
    });
    const after = await chainEvents(env, tenantC);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({
      outcome: 'refused',
      evidencePointer: replay.body.evidence_pointer,
      refusalSubject: 'tenant.suspend',
      details: expect.objectContaining({ idempotency_replay: true }),
    });
    await expectChainValid(tenantC);
  });
});
