// Live audit subscriptions over graphql-ws (protocol graphql-transport-ws) on /graphql:
// delivery with the `events` query's shape, filters, tenant isolation, the close codes
// and bad input. Real graphql-ws clients over `ws` against a running stack.
import WebSocket from 'ws';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { AUDIT_EVENTS, commitEvents, liveClient, range, settle, subscribe, subscriptionsOpen } from '../support/live-events';
import type { CloseEventLike } from '../support/live-events';

const EVENT_FIELDS =
  'id eventType tenantId outcome sequence chainId eventHash prevHash evidencePointer correlationId occurredAt actor details canonical';

describe('live audit subscriptions (graphql-ws)', () => {
  let env: TestStack;
  const clients: Array<{ dispose(): void | Promise<void> }> = [];
  const client = (credentials: Parameters<typeof liveClient>[1]) => {
    const created = liveClient(env.url, credentials);
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    env = await startTestStack({
      env: { SUBSCRIPTIONS_PER_PRINCIPAL: '3', SUBSCRIPTIONS_PER_CONNECTION: '2', SUBSCRIPTION_KEEPALIVE_MS: '1000' },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((created) => created.dispose()));
    // Gone from the gateway too: a test's wait for its own subscriptions counts only its own.
    await subscriptionsOpen(env.stack.gateway.stream, 0);
  });
  afterAll(() => env.stop());

  it("delivers a governed action's committed event with the shape of the events query", async () => {
    const tenant = uniqueId('live');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
    const auditor = client({ token: await env.token('auditor', tenant) });
    const sub = subscribe(auditor, {}, `subscription { auditEvents { ${EVENT_FIELDS} } }`);
    await subscriptionsOpen(env.stack.gateway.stream, 1);
    const suspended = await env.gql(`mutation($id: ID!) { suspendTenant(id: $id) { id status } }`, { id: tenant });
    expect(suspended.errors).toBeUndefined();
    const [event] = await sub.next(1);
    expect(event).toMatchObject({ eventType: 'tenant.suspend', tenantId: tenant, outcome: 'accepted', sequence: 2 });
    const listed = await env.gql<{ events: { items: unknown[] } }>(
      `query($f: EventFilter) { events(filter: $f) { items { ${EVENT_FIELDS} } } }`,
      {
        f: { tenantId: tenant, fromSequence: 2 },
      },
    );
    expect(listed.data!.events.items).toEqual([event]);
  });

  it('filters by event type (exact or family) and outcome, in chain order', async () => {
    const tenant = uniqueId('filter');
    const auditor = client({ token: await env.token('auditor', tenant) });
    const types = ['tenant.update', 'workload.admit', 'workload.refuse', 'object.put'];
    const eventType = (n: number) => types[n % types.length]!;
    const outcome = (n: number) => (eventType(n) === 'workload.refuse' ? 'refused' : 'accepted');
    const workloads = subscribe(auditor, { eventTypes: ['workload.*'] });
    // Another selection of the same events on the same chain: its own shape.
    const narrow = subscribe(
      client({ token: await env.token('auditor', tenant) }),
      { eventTypes: ['workload.*'] },
      'subscription($eventTypes: [String!]) { auditEvents(eventTypes: $eventTypes) { sequence } }',
    );
    const refusals = subscribe(auditor, { outcomes: ['refused'] });
    await subscriptionsOpen(env.stack.gateway.stream, 3);
    const everything = subscribe(client({ token: await env.token('auditor', tenant) }), {
      eventTypes: ['tenant.update', 'object.put'],
      outcomes: ['accepted'],
    });
    await subscriptionsOpen(env.stack.gateway.stream, 4);
    await commitEvents(env.stack.services.db, tenant, 12, { eventType, outcome });
    const admitted = await workloads.next(6);
    expect(admitted.map((event) => event.eventType)).toEqual(
      range(0, 11)
        .map(eventType)
        .filter((type) => type.startsWith('workload.')),
    );
    expect(admitted.map((event) => event.sequence)).toEqual(range(1, 12).filter((seq) => eventType(seq - 1).startsWith('workload.')));
    expect(await narrow.next(6)).toEqual(admitted.map((event) => ({ sequence: event.sequence })));
    expect((await refusals.next(3)).every((event) => event.outcome === 'refused' && event.eventType === 'workload.refuse')).toBe(true);
    expect((await everything.next(6)).map((event) => event.eventType)).toEqual(
      range(0, 11)
        .map(eventType)
        .filter((type) => type === 'tenant.update' || type === 'object.put'),
    );
    // A marker after the twelve, matching both selections: once it is there, every earlier event
    // of the chain has been offered to them, so a stray one would have come before it.
    await commitEvents(env.stack.services.db, tenant, 1, { eventType: 'workload.marker', outcome: 'refused' });
    await workloads.next(7);
    expect(workloads.events.map((event) => event.sequence)).toEqual([...admitted.map((event) => event.sequence), 13]);
    await refusals.next(4);
    expect(refusals.events.map((event) => event.sequence)).toEqual([...range(1, 12).filter((seq) => outcome(seq - 1) === 'refused'), 13]);
  });

  it("checklist 24: never gives a tenant auditor another tenant's events; a platform auditor sees every tenant", async () => {
    const a = uniqueId('iso-a');
    const b = uniqueId('iso-b');
    const ofA = subscribe(client({ token: await env.token('auditor', a) }));
    const platform = subscribe(client({ token: await env.token('auditor') }));
    await subscriptionsOpen(env.stack.gateway.stream, 2);
    await commitEvents(env.stack.services.db, b, 3);
    await commitEvents(env.stack.services.db, a, 2);
    await commitEvents(env.stack.services.db, b, 2);
    expect((await ofA.next(2)).map((event) => [event.tenantId, event.sequence])).toEqual([
      [a, 1],
      [a, 2],
    ]);
    await platform.next(7);
    const seen = (tenant: string) => platform.events.filter((event) => event.tenantId === tenant).map((event) => event.sequence);
    expect(seen(a)).toEqual([1, 2]);
    expect(seen(b)).toEqual([1, 2, 3, 4, 5]);
    // B's events have been offered to every subscriber (the platform auditor has them all); a
    // marker on A's chain committed now reaches A's auditor after any of them could have.
    await commitEvents(env.stack.services.db, a, 1);
    await ofA.next(3);
    expect(ofA.events.map((event) => [event.tenantId, event.sequence])).toEqual([
      [a, 1],
      [a, 2],
      [a, 3],
    ]);
  });

  it('checklist 24: closes with 4403 and records the refusal when an auditor asks for another tenant', async () => {
    const a = uniqueId('own');
    const b = uniqueId('other');
    await commitEvents(env.stack.services.db, b, 1);
    const sub = subscribe(client({ token: await env.token('auditor', a) }), { tenantId: b });
    const ended = (await sub.ended) as CloseEventLike;
    expect(ended.code).toBe(4403);
    expect(ended.reason).toMatch(/^ECS_FORBIDDEN eosc:\/\/evidence\/sha256:[0-9a-f]{64}$/);
    const refusals = await env.gql<{ events: { items: Array<{ evidencePointer: string; refusalReasonCode: string }> } }>(
      `query($f: EventFilter) { events(filter: $f) { items { evidencePointer refusalReasonCode } } }`,
      { f: { tenantId: b, eventTypes: ['authority.refusal'] } },
    );
    expect(refusals.data!.events.items).toEqual([
      { evidencePointer: ended.reason.split(' ')[1], refusalReasonCode: 'outside_tenant_scope' },
    ]);
  });

  it('checklist 22: closes with 4401 for missing, bad or alg:none credentials and 4403 for a caller without evidence.read', async () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const algNone = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ sub: 'mallory', roles: ['platform-admin'], aud: 'ecs-gateway', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    for (const credentials of [
      undefined,
      { token: 'not-a-token' },
      { token: algNone },
      { authorization: 'Basic abc' },
      { apiKey: 'ecs_nope_nope' },
    ]) {
      const ended = (await subscribe(client(credentials)).ended) as CloseEventLike;
      expect(ended.code).toBe(4401);
      expect(ended.reason).toMatch(/^ECS_UNAUTHENTICATED eosc:\/\/evidence\//);
    }
    const reader = (await subscribe(client({ token: await env.token('reader', uniqueId('r')) })).ended) as CloseEventLike;
    expect(reader.code).toBe(4403);
    expect(reader.reason).toMatch(/^ECS_FORBIDDEN eosc:\/\/evidence\//);
  });

  it('authenticates API keys in connection_init: evidence.read streams, a key without it gets 4403', async () => {
    const tenant = uniqueId('keys');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
    const tenantAdmin = await env.token('tenant-admin', tenant);
    const createKey = async (scopes: string[]) => {
      const created = await env.gqlAs<{ createApiKey: { secret: string } }>(
        tenantAdmin,
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`,
        { input: { tenantId: tenant, name: scopes.join('+'), scopes } },
      );
      expect(created.errors).toBeUndefined();
      return created.data!.createApiKey.secret;
    };
    const reading = subscribe(client({ apiKey: await createKey(['evidence.read']) }), { afterSequence: 0 });
    const events = await reading.next(2);
    expect(events.map((event) => event.eventType)).toEqual(['tenant.create', 'apikey.create']);
    expect(events.every((event) => event.tenantId === tenant)).toBe(true);
    const denied = (await subscribe(client({ apiKey: await createKey(['workload.read']) })).ended) as CloseEventLike;
    expect(denied.code).toBe(4403);
  });

  it('pings every SUBSCRIPTION_KEEPALIVE_MS', async () => {
    // The token first: a socket that opened while a token was being minted would never be seen to open.
    const token = await env.token('auditor', uniqueId('ping'));
    const socket = new WebSocket(`${env.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const pinged = new Promise<number>((resolve) => socket.once('ping', () => resolve(Date.now())));
    await new Promise((resolve) => socket.once('open', resolve));
    const opened = Date.now();
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    expect((await pinged) - opened).toBeLessThan(2500);
    socket.close();
  });

  it('checklist 25: limits connections per principal (4429) and subscriptions per connection', async () => {
    const tenant = uniqueId('many');
    const token = await env.token('auditor', tenant);
    const open = [client({ token }), client({ token }), client({ token })].map((each) => subscribe(each));
    await settle(500);
    const fourth = (await subscribe(client({ token })).ended) as CloseEventLike;
    expect(fourth.code).toBe(4429);
    expect(fourth.reason).toMatch(/^ECS_RATE_LIMITED/);
    for (const sub of open) sub.dispose();
    await settle(300);
    const multiplexed = client({ token });
    const first = subscribe(multiplexed, { afterSequence: 0 });
    const second = subscribe(multiplexed, { afterSequence: 0 });
    const third = subscribe(multiplexed, { afterSequence: 0 });
    expect(await third.ended).toEqual([expect.objectContaining({ extensions: { code: 'ECS_RATE_LIMITED' } })]);
    // The refusal is the third's alone: the two before it on the same connection still deliver.
    await commitEvents(env.stack.services.db, tenant, 2);
    expect((await first.next(2)).map((event) => event.sequence)).toEqual([1, 2]);
    expect((await second.next(2)).map((event) => event.sequence)).toEqual([1, 2]);
    expect(third.events).toEqual([]);
  });

  it('answers bad input with a GraphQL error and keeps the connection', async () => {
    const tenant = uniqueId('bad');
    await commitEvents(env.stack.services.db, tenant, 2);
    const auditor = client({ token: await env.token('auditor', tenant) });
    const codeOf = async (variables: Record<string, unknown>, query = AUDIT_EVENTS) => {
      const ended = await subscribe(auditor, variables, query).ended;
      return Array.isArray(ended) ? (ended as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code : ended;
    };
    expect(await codeOf({ eventTypes: ['not a type'] })).toBe('ECS_VALIDATION_FAILED');
    expect(await codeOf({ afterSequence: -1 })).toBe('ECS_VALIDATION_FAILED');
    expect(await codeOf({ afterSequence: 3 })).toBe('ECS_BAD_REQUEST');
    expect(await codeOf({}, '{ subscriptionsOnly }')).toBe('ECS_BAD_REQUEST');
    expect(await codeOf({}, 'subscription { auditEvents { idd } }')).toBe('ECS_BAD_REQUEST');
    const platform = client({ token: await env.token('auditor') });
    const noTenant = await subscribe(platform, { afterSequence: 1 }).ended;
    expect(noTenant).toEqual([expect.objectContaining({ message: expect.stringMatching(/needs a tenantId/) })]);
    // The connection is still usable.
    const replay = subscribe(auditor, { afterSequence: 0 });
    expect((await replay.next(2)).map((event) => event.sequence)).toEqual([1, 2]);
  });

  it('checklist 20, checklist 21: refuses a foreign Origin, a silent client (4408), a second connection_init (4429) and subscribe before ack (4401)', async () => {
    const wsUrl = `${env.url.replace(/^http/, 'ws')}/graphql`;
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: { origin: 'https://evil.example' } });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => resolve(101));
    });
    expect(status).toBe(403);
    const closeCode = (send: (socket: WebSocket) => void) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
        socket.on('open', () => send(socket));
        socket.on('close', (code) => resolve(code));
      });
    expect(await closeCode(() => undefined)).toBe(4408);
    const token = await env.token('auditor', uniqueId('twice'));
    const init = JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    expect(
      await closeCode((socket) => {
        socket.send(init);
        socket.send(init);
      }),
    ).toBe(4429);
    expect(await closeCode((socket) => socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: AUDIT_EVENTS } })))).toBe(
      4401,
    );
  });
});
