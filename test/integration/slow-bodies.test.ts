import net from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { governance, storageClient } from '../support/storage-client';

const BODY_TIMEOUT_MS = 1000;
const BODY_IDLE_TIMEOUT_MS = 800;
const BODIES_PER_PRINCIPAL = 2;

interface RawAnswer {
  status: number | undefined;
  headers: string;
  body: string;
  /** Milliseconds from sending the first body byte until the server closed the connection. */
  closedAfterMs: number;
}

/**
 * Sends the request head and the first bytes of a body over a plain socket, then nothing
 * (or one more byte every `trickleMs`), and waits for the server to answer and close (or
 * `giveUpMs` to pass).
 */
function slowRequest(
  env: TestStack,
  head: string[],
  firstBytes: string,
  { giveUpMs = 8000, trickleMs = 0 } = {},
): { answer: Promise<RawAnswer>; socket: net.Socket } {
  const { hostname, port } = new URL(env.url);
  const socket = net.connect(Number(port), hostname);
  const answer = new Promise<RawAnswer>((resolve) => {
    const chunks: Buffer[] = [];
    let started = 0;
    let trickle: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(`${head.join('\r\n')}\r\nHost: ${hostname}\r\n\r\n${firstBytes}`);
      started = Date.now();
      if (trickleMs > 0) trickle = setInterval(() => socket.writable && socket.write('x'), trickleMs);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(trickle);
      const text = Buffer.concat(chunks).toString('utf8');
      const [headers = '', body = ''] = text.split('\r\n\r\n', 2);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1];
      resolve({ status: status ? Number(status) : undefined, headers, body, closedAfterMs: Date.now() - started });
    });
  });
  return { answer, socket };
}

describe('security checklist: slow request bodies', () => {
  let env: TestStack;
  let tenantId: string;
  let tenantAdmin: string;
  let bucket: string;

  beforeAll(async () => {
    env = await startTestStack({
      env: {
        BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
        BODY_IDLE_TIMEOUT_MS: String(BODY_IDLE_TIMEOUT_MS),
        IN_FLIGHT_BODIES_PER_PRINCIPAL: String(BODIES_PER_PRINCIPAL),
      },
    });
    tenantId = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    tenantAdmin = await env.token('tenant-admin', tenantId);
    bucket = await storageClient(env, tenantAdmin).createBucket(tenantId);
  });
  afterAll(() => env.stop());

  const jsonHead = (path: string, token: string | undefined) => [
    `POST ${path} HTTP/1.1`,
    ...(token ? [`Authorization: Bearer ${token}`] : []),
    'Content-Type: application/json',
    'Content-Length: 100',
  ];

  async function servesNormally(token = env.adminToken) {
    const response = await fetch(`${env.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ tenants { items { id } } }' }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
  }

  it('checklist 68: a JSON body declared as 100 bytes that stops after one byte is answered 408 with the error body within the body timeout, and the connection closes (REST and GraphQL)', async () => {
    const started = Date.now();
    const [rest, graphql] = await Promise.all([
      slowRequest(env, jsonHead('/v1/tenants', env.adminToken), '{').answer,
      slowRequest(env, jsonHead('/graphql', env.adminToken), '{').answer,
    ]);
    for (const answer of [rest, graphql]) {
      expect(answer.status).toBe(408);
      expect(answer.headers.toLowerCase()).toContain('connection: close');
      expect(JSON.parse(answer.body)).toEqual({ code: 'ECS_REQUEST_TIMEOUT', message: expect.any(String) });
      expect(answer.closedAfterMs).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
      expect(answer.closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS + 2000);
    }
    expect(Date.now() - started).toBeLessThan(BODY_TIMEOUT_MS + 3000);
    await servesNormally();
  });

  it('checklist 68: an unauthenticated request does not hold its connection waiting for the body', async () => {
    const answer = await slowRequest(env, jsonHead('/v1/tenants', undefined), '{').answer;
    expect(answer.status).toBe(401);
    expect(answer.closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS + 2000);
    const unknownPath = await slowRequest(env, jsonHead('/no/such/path', undefined), '{').answer;
    expect(unknownPath.status).toBeDefined();
    expect(unknownPath.closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS + 2000);
    // An upload path gets an idle timeout, but once refused, a trickle of bytes cannot keep it open.
    const trickled = await slowRequest(
      env,
      [`PUT /v1/storage/${bucket}/objects/unauthenticated HTTP/1.1`, 'Content-Type: text/plain', 'Content-Length: 100000'],
      'x',
      { trickleMs: BODY_IDLE_TIMEOUT_MS / 4 },
    ).answer;
    expect(trickled.status).toBe(401);
    expect(trickled.closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS + 2000);
    await servesNormally();
  });

  it('checklist 68: a storage upload that keeps sending is not cut by the body deadline; one that stops sending gets 408 after the idle timeout', async () => {
    const chunks = Array.from({ length: 12 }, (_, i) => Buffer.from(`chunk ${String(i).padStart(2, '0')} of a slow but steady upload\n`));
    const whole = Buffer.concat(chunks);
    async function* steady() {
      for (const chunk of chunks) {
        await sleep(BODY_IDLE_TIMEOUT_MS / 4);
        yield chunk;
      }
    }
    const started = Date.now();
    const stored = await storageClient(env, tenantAdmin).put(bucket, 'slow/steady', Readable.from(steady()), {
      ...governance(whole),
      'content-length': String(whole.length),
    });
    expect(Date.now() - started).toBeGreaterThan(BODY_TIMEOUT_MS * 2);
    expect([stored.status, stored.json.size]).toEqual([201, whole.length]);

    const declared = Buffer.alloc(100, 'x');
    const headers = Object.entries(governance(declared)).map(([name, value]) => `${name}: ${value}`);
    const stalled = await slowRequest(
      env,
      [
        `PUT /v1/storage/${bucket}/objects/slow/stalled HTTP/1.1`,
        `Authorization: Bearer ${tenantAdmin}`,
        ...headers,
        'Content-Length: 100',
      ],
      'x',
    ).answer;
    expect(stalled.status).toBe(408);
    expect(JSON.parse(stalled.body)).toEqual({ code: 'ECS_REQUEST_TIMEOUT', message: expect.any(String) });
    expect(stalled.closedAfterMs).toBeGreaterThanOrEqual(BODY_IDLE_TIMEOUT_MS - 50);
    expect(stalled.closedAfterMs).toBeLessThan(BODY_IDLE_TIMEOUT_MS + 2000);
    const missing = await storageClient(env, tenantAdmin).get(bucket, 'slow/stalled');
    expect(missing.status).toBe(404);
    await servesNormally();
  });

  it('checklist 68: in-flight bodies are capped per principal (429 with Retry-After) while another principal is served', async () => {
    const holder = await env.token('platform-admin', undefined, { subject: `holder-${uniqueId()}` });
    const held = Array.from({ length: BODIES_PER_PRINCIPAL }, () => slowRequest(env, jsonHead('/v1/tenants', holder), '{'));
    await sleep(BODY_TIMEOUT_MS / 3);

    const over = await fetch(`${env.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${holder}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ tenants { items { id } } }' }),
    });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await over.json()).toEqual({ code: 'ECS_RATE_LIMITED', message: expect.any(String) });
    const overSlow = await slowRequest(env, jsonHead('/v1/tenants', holder), '{').answer;
    expect(overSlow.status).toBe(429);
    expect(overSlow.closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS);

    await servesNormally(await env.token('platform-admin', undefined, { subject: `other-${uniqueId()}` }));
    for (const { answer } of held) expect((await answer).status).toBe(408);
    await servesNormally(holder);
  });
});
