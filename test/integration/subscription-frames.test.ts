// The `next` messages of live audit subscriptions as they are on the wire: each event's
// payload is serialised once per distinct request and written behind each subscription's
// own id. A websocket client speaking graphql-transport-ws by hand reads the exact text;
// a graphql-ws client checks what applications see.
import WebSocket from 'ws';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { AUDIT_EVENTS, commitEvents, liveClient, settle, subscribe, subscriptionsOpen } from '../support/live-events';
import type { LiveEvent } from '../support/live-events';

const SEQUENCES = 'subscription { auditEvents { sequence eventType } }';
const WORKLOADS = `subscription($eventTypes: [String!]) { auditEvents(eventTypes: $eventTypes) { sequence eventType } }`;

interface NextMessage {
  id: string;
  type: string;
  payload: { data?: { auditEvents: Record<string, unknown> }; errors?: unknown[] };
}

/** One websocket speaking graphql-transport-ws by hand: every text message as received. */
async function rawConnection(url: string, token: string) {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: string[] = [];
  const waiting = new Set<() => void>();
  socket.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    messages.push(String(data));
    for (const check of [...waiting]) check();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  const until = (done: () => boolean, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiting.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiting.delete(check);
        reject(new Error(`timed out; received ${JSON.stringify(messages)}`));
      }, timeoutMs);
      waiting.add(check);
      check();
    });
  await until(() => messages.some((text) => JSON.parse(text).type === 'connection_ack'));
  const nexts = (id: string): NextMessage[] =>
    messages.map((text) => JSON.parse(text) as NextMessage).filter((message) => message.type === 'next' && message.id === id);
  return {
    socket,
    messages,
    subscribe(id: string, query: string, variables: Record<string, unknown> = {}) {
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    },
    complete(id: string) {
      socket.send(JSON.stringify({ id, type: 'complete' }));
    },
    nexts,
    /** Waits until subscription `id` has had `count` next messages. */
    waitFor: (id: string, count: number) => until(() => nexts(id).length >= count),
  };
}

describe('next messages of live audit subscriptions on the wire', () => {
  let env: TestStack;
  const closers: Array<() => unknown> = [];

  beforeAll(async () => {
    env = await startTestStack({ env: { SUBSCRIPTIONS_PER_CONNECTION: '5' } });
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    // Gone from the gateway too: a test's wait for its own subscriptions counts only its own.
    await subscriptionsOpen(env.stack.gateway.stream, 0);
  });
  afterAll(() => env.stop());

  const connect = async (token: string) => {
    const connection = await rawConnection(env.url, token);
    closers.push(() => connection.socket.close());
    return connection;
  };

  it("gives each subscriber of the same request its own id, and each request its own selection's payload", async () => {
    const tenant = uniqueId('frames');
    const token = await env.token('auditor', tenant);
    const one = await connect(token);
    const two = await connect(token);
    // The same request twice on one connection and once on another; two other requests.
    one.subscribe('same-1', AUDIT_EVENTS);
    one.subscribe('same-2', AUDIT_EVENTS);
    two.subscribe('same\u00e9"3', AUDIT_EVENTS);
    two.subscribe('narrow', SEQUENCES);
    two.subscribe('workloads', WORKLOADS, { eventTypes: ['workload.*'] });
    const app = liveClient(env.url, { token });
    closers.push(() => app.dispose());
    const seen = subscribe(app);
    await subscriptionsOpen(env.stack.gateway.stream, 6);
    const eventType = (n: number) => (n % 2 === 0 ? 'workload.admit' : 'tenant.update');
    await commitEvents(env.stack.services.db, tenant, 4, { eventType });
    await Promise.all([
      one.waitFor('same-1', 4),
      one.waitFor('same-2', 4),
      two.waitFor('same\u00e9"3', 4),
      two.waitFor('narrow', 4),
      two.waitFor('workloads', 2),
    ]);
    const events: LiveEvent[] = await seen.next(4);

    // Exactly graphql-ws's serialisation: `{"id":..,"type":"next","payload":{"data":...}}`, nothing else.
    for (const text of [...one.messages, ...two.messages]) expect(text).toBe(JSON.stringify(JSON.parse(text)));
    const payloads = (connection: typeof one, id: string) => connection.nexts(id).map((message) => message.payload);
    const full = events.map((event) => ({ data: { auditEvents: event } }));
    expect(payloads(one, 'same-1')).toEqual(full);
    expect(payloads(one, 'same-2')).toEqual(full);
    expect(payloads(two, 'same\u00e9"3')).toEqual(full);
    expect(payloads(two, 'narrow')).toEqual(
      events.map((event) => ({ data: { auditEvents: { sequence: event.sequence, eventType: event.eventType } } })),
    );
    expect(payloads(two, 'workloads')).toEqual(
      events
        .filter((event) => event.eventType === 'workload.admit')
        .map((event) => ({ data: { auditEvents: { sequence: event.sequence, eventType: event.eventType } } })),
    );
    // Each message carries its own subscription's id, in front of the shared payload text.
    const texts = (connection: typeof one, id: string) =>
      connection.messages.filter((text) => text.startsWith(`{"id":${JSON.stringify(id)},"type":"next","payload":`));
    const shared = texts(one, 'same-1').map((text) => text.slice(text.indexOf('"payload":')));
    expect(texts(one, 'same-2').map((text) => text.slice(text.indexOf('"payload":')))).toEqual(shared);
    expect(texts(two, 'same\u00e9"3').map((text) => text.slice(text.indexOf('"payload":')))).toEqual(shared);
    expect(events.map((event) => event.sequence)).toEqual([1, 2, 3, 4]);
  });

  it('writes nothing more for a completed subscription while the others on its connection go on', async () => {
    const tenant = uniqueId('complete');
    const connection = await connect(await env.token('auditor', tenant));
    connection.subscribe('stays', AUDIT_EVENTS);
    connection.subscribe('leaves', AUDIT_EVENTS);
    await subscriptionsOpen(env.stack.gateway.stream, 2);
    await commitEvents(env.stack.services.db, tenant, 1);
    await Promise.all([connection.waitFor('stays', 1), connection.waitFor('leaves', 1)]);
    connection.complete('leaves');
    await settle(100);
    // A marker after the completion: once the other subscription has it, a stray message would have come before it.
    await commitEvents(env.stack.services.db, tenant, 2);
    await connection.waitFor('stays', 3);
    expect(connection.nexts('stays').map((message) => message.payload.data?.auditEvents.sequence)).toEqual([1, 2, 3]);
    expect(connection.nexts('leaves').map((message) => message.payload.data?.auditEvents.sequence)).toEqual([1]);
    expect(connection.messages.map((text) => JSON.parse(text).type)).not.toContain('error');
  });
});
