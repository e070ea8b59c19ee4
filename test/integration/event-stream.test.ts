// Server-Sent Events for REST clients (`GET /v1/events/stream`) from the same source as the
// websocket subscription, read with a plain HTTP client; and the AsyncAPI document at
// `/v1/asyncapi.json`, checked against the spec's skeleton.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { commitEvents, openSse, settle, subscriptionsOpen } from '../support/live-events';
import type { SseStream } from '../support/live-events';

type Json = Record<string, any>;

const skeleton = parse(readFileSync(path.join(__dirname, '../fixtures/ecs-spec/asyncapi-events.yaml'), 'utf8')) as Json;

describe('Server-Sent Events at /v1/events/stream', () => {
  let env: TestStack;
  const streams: SseStream[] = [];
  const open = async (query: string, headers: Record<string, string>) => {
    const stream = await openSse(env.url, `/v1/events/stream${query}`, headers);
    streams.push(stream);
    return stream;
  };
  const bearer = async (role: 'auditor' | 'reader' | 'tenant-admin', tenant?: string, ttlSeconds?: number) => ({
    authorization: `Bearer ${await env.token(role, tenant, ttlSeconds ? { ttlSeconds } : {})}`,
  });
  const sequences = (stream: SseStream) => stream.events.map((event) => JSON.parse(event.data).sequence as number);

  beforeAll(async () => {
    env = await startTestStack({ env: { SUBSCRIPTION_KEEPALIVE_MS: '500', SUBSCRIPTIONS_PER_PRINCIPAL: '2' } });
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    // Gone from the gateway too: a test's wait for its own streams counts only its own.
    await subscriptionsOpen(env.stack.gateway.stream, 0);
  });
  afterAll(() => env.stop());

  it('streams committed events as the REST event body, with the sequence as id, and keepalive comments', async () => {
    const tenant = uniqueId('sse');
    const stream = await open('', await bearer('auditor', tenant));
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await subscriptionsOpen(env.stack.gateway.stream, 1);
    await commitEvents(env.stack.services.db, tenant, 3, { eventType: (n) => (n === 1 ? 'tenant.update' : 'workload.admit') });
    const events = await stream.next(3);
    expect(events.map((event) => event.id)).toEqual(['1', '2', '3']);
    const listed = await fetch(`${env.url}/v1/events?tenant=${tenant}`, { headers: { authorization: `Bearer ${env.adminToken}` } });
    const body = (await listed.json()) as { items: unknown[] };
    expect(events.map((event) => JSON.parse(event.data))).toEqual(body.items);
    await settle(700);
    expect(stream.comments).toContain('keepalive');
  });

  it('applies the same filters and resumes from Last-Event-ID or after_sequence', async () => {
    const tenant = uniqueId('sse-filter');
    await commitEvents(env.stack.services.db, tenant, 6, {
      eventType: (n) => (n % 2 ? 'workload.refuse' : 'tenant.update'),
      outcome: (n) => (n % 2 ? 'refused' : 'accepted'),
    });
    const headers = await bearer('auditor', tenant);
    const resumed = await open('', { ...headers, 'last-event-id': '4' });
    expect((await resumed.next(2)).map((event) => event.id)).toEqual(['5', '6']);
    resumed.close();
    const filtered = await open('?event_type=workload.*&outcome=refused&after_sequence=0', headers);
    await filtered.next(3);
    expect(sequences(filtered)).toEqual([2, 4, 6]);
    await commitEvents(env.stack.services.db, tenant, 2, { eventType: 'workload.refuse', outcome: 'refused' });
    await filtered.next(5);
    expect(sequences(filtered)).toEqual([2, 4, 6, 7, 8]);
  });

  it('streams every tenant to a platform auditor, without ids', async () => {
    const a = uniqueId('sse-a');
    const b = uniqueId('sse-b');
    const stream = await open('', await bearer('auditor'));
    await subscriptionsOpen(env.stack.gateway.stream, 1);
    await commitEvents(env.stack.services.db, a, 2);
    await commitEvents(env.stack.services.db, b, 1);
    await stream.next(3);
    const seen = stream.events.map((event) => JSON.parse(event.data) as { tenant_id: string; sequence: number });
    expect(seen.filter((event) => event.tenant_id === a).map((event) => event.sequence)).toEqual([1, 2]);
    expect(seen.filter((event) => event.tenant_id === b).map((event) => event.sequence)).toEqual([1]);
    expect(stream.events.every((event) => event.id === undefined)).toBe(true);
  });

  it('answers with the REST error body before streaming', async () => {
    const tenant = uniqueId('sse-err');
    await commitEvents(env.stack.services.db, tenant, 1);
    const anonymous = await open('', {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({
      code: 'ECS_UNAUTHENTICATED',
      message: expect.any(String),
      evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
    });
    const reader = await open('', await bearer('reader', tenant));
    expect([reader.status, reader.body?.code]).toEqual([403, 'ECS_FORBIDDEN']);
    expect(reader.body?.evidence_pointer).toMatch(/^eosc:\/\/evidence\//);
    const outsider = await open(`?tenant=${tenant}`, await bearer('auditor', uniqueId('other')));
    expect([outsider.status, outsider.body?.code]).toEqual([403, 'ECS_FORBIDDEN']);
    const headers = await bearer('auditor', tenant);
    expect((await open('', { ...headers, 'last-event-id': 'yesterday' })).status).toBe(400);
    expect((await open('?limit=5', headers)).body).toMatchObject({ code: 'ECS_BAD_REQUEST', message: 'unknown query parameter: limit' });
    expect((await open('?after_sequence=9', headers)).body).toMatchObject({ code: 'ECS_BAD_REQUEST' });
    expect((await open('?event_type=a%20b', headers)).body).toMatchObject({ code: 'ECS_VALIDATION_FAILED' });
    const platform = await bearer('auditor');
    expect((await open('?after_sequence=1', platform)).body).toMatchObject({ code: 'ECS_BAD_REQUEST' });
    const first = await open('', headers);
    const second = await open('', headers);
    const third = await open('', headers);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
    expect(third.body).toMatchObject({ code: 'ECS_RATE_LIMITED' });
  });

  it('ends the stream with event: end when the token expires', async () => {
    const tenant = uniqueId('sse-exp');
    const stream = await open('', await bearer('auditor', tenant, 2));
    await stream.closed;
    const last = stream.events[stream.events.length - 1]!;
    expect(last.event).toBe('end');
    expect(JSON.parse(last.data)).toMatchObject({ code: 'ECS_UNAUTHENTICATED' });
  });

  it('serves an AsyncAPI document aligned with the spec skeleton, and lists the stream in OpenAPI', async () => {
    const response = await fetch(`${env.url}/v1/asyncapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Json;
    expect(document.asyncapi).toBe('2.6.0');
    expect(Object.keys(document.channels).sort()).toEqual(Object.keys(skeleton.channels).sort());
    for (const [channel, definition] of Object.entries(skeleton.channels as Json)) {
      expect(document.channels[channel].subscribe.message.name).toBe(definition.subscribe.message.name);
    }
    for (const name of Object.keys(skeleton.components.schemas)) expect(document.components.schemas).toHaveProperty(name);
    const envelope = skeleton.components.schemas.EventEnvelope as Json;
    for (const property of Object.keys(envelope.properties).filter(
      (name) => name !== 'payload' && name !== 'actor_details' && name !== 'evidence_hash' && name !== 'monotonic_time_ns',
    )) {
      expect(document.components.schemas.EventEnvelope.properties).toHaveProperty(property);
    }
    // A delivered event validates against the document's own AuditEvent schema.
    const tenant = uniqueId('sse-schema');
    const stream = await open('', await bearer('auditor', tenant));
    await subscriptionsOpen(env.stack.gateway.stream, 1);
    await commitEvents(env.stack.services.db, tenant, 1, { eventType: 'tenant.update' });
    const [event] = await stream.next(1);
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    ajv.addSchema({ $id: 'asyncapi.json', components: document.components });
    for (const message of ['AuditEvent', 'TenantEvent']) {
      const validate = ajv.compile({ $ref: `asyncapi.json#/components/schemas/${message}` });
      expect([message, validate(JSON.parse(event!.data)), validate.errors]).toEqual([message, true, null]);
    }
    const openApi = (await (await fetch(`${env.url}/v1/openapi.json`)).json()) as Json;
    expect(openApi.paths['/v1/events/stream'].get.operationId).toBe('streamEvents');
    expect(openApi.paths['/v1/asyncapi.json'].get.operationId).toBe('getAsyncApi');
  });
});
