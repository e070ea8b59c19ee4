import { Agent, fetch as undiciFetch } from 'undici';
import { randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Caller } from '../../lib/auth/caller';
import { IDENTITY_HEADER, IdentityTokens } from '../../lib/auth/identity-token';
import { createLogger } from '../../lib/logger';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('gateway HTTP surface', () => {
  let env: TestStack;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    // Capture the JSON log lines instead of printing them.
    const destination = { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
    env = await startTestStack({ log: createLogger({ level: 'debug', destination }) });
  });
  afterAll(() => env.stop());

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${env.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${env.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', reasons: [] });
  });

  it('returns the caller X-Request-Id, logs one line with it and propagates it to the planes', async () => {
    const requestId = `req-${uniqueId()}`;
    const response = await fetch(`${env.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, authorization: `Bearer ${env.adminToken}` },
      body: JSON.stringify({ query: CREATE_TENANT, variables: { input: tenantInput(uniqueId()) } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    // The caller's own answer: no cache keeps it, and no ETag is made up for it.
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('etag')).toBeNull();
    const mine = lines.filter((line) => line.requestId === requestId);
    expect(mine.filter((line) => line.msg === 'request')).toHaveLength(1);
    expect(mine.find((line) => line.msg === 'request')).toMatchObject({ method: 'POST', path: '/graphql', status: 200 });
    expect(mine.some((line) => line.msg === 'subgraph request' && line.plane === 'control')).toBe(true);
  });

  it('makes up a request id when the caller sends none or an unsafe one', async () => {
    const none = await fetch(`${env.url}/healthz`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await fetch(`${env.url}/healthz`, { headers: { 'x-request-id': 'a b\tc' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves Prometheus metrics to platform administrators only', async () => {
    expect((await fetch(`${env.url}/metrics`)).status).toBe(401);
    const auditor = await env.token('auditor');
    expect((await fetch(`${env.url}/metrics`, { headers: { authorization: `Bearer ${auditor}` } })).status).toBe(403);
    const response = await fetch(`${env.url}/metrics`, { headers: { authorization: `Bearer ${env.adminToken}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('ecs_http_request_duration_seconds_bucket');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers unknown paths and versions with the error body', async () => {
    for (const path of ['/v2/tenants', '/nothing']) {
      const response = await fetch(`${env.url}${path}`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ code: 'ECS_NOT_FOUND', message: expect.stringContaining(path) });
    }
  });

  it('checklist 61: reports 503 on /readyz naming a plane that stopped answering, and callers get an error naming the plane', async () => {
    const audit = env.stack.subgraphs.audit;
    await audit.close();
    const ready = await fetch(`${env.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { status: string; reasons: string[] };
    expect(body.status).toBe('unavailable');
    expect(body.reasons).toHaveLength(1);
    expect(body.reasons[0]).toMatch(/^audit plane: /);

    const failed = await env.gql(`{ event(id: "00000000-0000-0000-0000-000000000000") { id } }`);
    expect(failed.errors?.[0]?.extensions?.code).toBe('ECS_DEPENDENCY_UNAVAILABLE');
    expect(failed.errors?.[0]?.message).toBe('the audit plane is not reachable');
    expect(JSON.stringify(failed.errors)).not.toMatch(/stack|ECONNREFUSED|127\.0\.0\.1/);
  });
});

describe('subgraph transport', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack();
  });
  afterAll(() => env.stop());

  const query = JSON.stringify({ query: '{ _service { sdl } }' });
  /** POSTs the query to a plane through `agent`, which presents (or lacks) a client certificate. */
  const postTo = (url: string, agent: Agent, headers: Record<string, string> = {}) =>
    undiciFetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: query, dispatcher: agent });
  /** The connection closed without an HTTP answer (not refused, reset or timed out before it was made). */
  const closedWithoutAnswer = {
    name: 'TypeError',
    message: 'fetch failed',
    cause: expect.objectContaining({ code: 'UND_ERR_SOCKET', message: 'other side closed' }),
  };
  /**
   * The next handshake the plane's server gives up on: the TLS error and, for a certificate it
   * did not accept, why. Nothing recorded within 10 s is an answer too (the refusal came from
   * somewhere else).
   */
  const nextTlsRefusal = (plane: 'control' | 'execution' | 'data') =>
    new Promise<{ code?: string; certificate?: string | null } | 'none'>((resolve) => {
      const server = env.stack.subgraphs[plane].server;
      const timer = setTimeout(() => {
        server.off('tlsClientError', recorded);
        resolve('none');
      }, 10_000);
      const recorded = (error: NodeJS.ErrnoException, socket: TLSSocket) => {
        clearTimeout(timer);
        resolve({ code: error.code, certificate: socket.authorizationError ? String(socket.authorizationError) : null });
      };
      server.once('tlsClientError', recorded);
    });

  it('refuses plain HTTP on a subgraph port', async () => {
    const url = env.stack.subgraphs.control.url.replace('https:', 'http:');
    const refusal = nextTlsRefusal('control');
    const failure = await undiciFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: query }).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject(closedWithoutAnswer);
    expect(await refusal).toEqual({ code: 'ERR_SSL_HTTP_REQUEST', certificate: null });
  });

  it('checklist 13: a subgraph port refuses TLS without a client certificate', async () => {
    const agent = new Agent({ connect: { ca: env.stack.services.tls.ca } });
    try {
      const refusal = nextTlsRefusal('execution');
      expect(await postTo(env.stack.subgraphs.execution.url, agent).catch((error: unknown) => error)).toMatchObject(closedWithoutAnswer);
      expect(await refusal).toEqual({ code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', certificate: null });
    } finally {
      await agent.close();
    }
  });

  it('refuses a client certificate from another CA', async () => {
    const other = await startTestStack();
    const foreign = other.stack.services.tls;
    const agent = new Agent({
      connect: { ca: env.stack.services.tls.ca, cert: foreign.clientCert, key: foreign.clientKey },
    });
    try {
      // The handshake completes on the client's side; the server then drops the socket because
      // the certificate does not chain to its CA.
      const refusal = nextTlsRefusal('data');
      expect(await postTo(env.stack.subgraphs.data.url, agent).catch((error: unknown) => error)).toMatchObject(closedWithoutAnswer);
      expect(await refusal).toEqual({ code: 'ECONNRESET', certificate: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      await agent.close();
      await other.stop();
    }
  });

  it('checklist 13: refuses the gateway certificate without a forwarded identity, or with a forged or misaddressed one', async () => {
    const tls = env.stack.services.tls;
    const agent = new Agent({ connect: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } });
    const admin: Caller = { subject: 'admin', roles: ['platform-admin'], authMethod: 'dev-issuer' };
    const call = (headers: Record<string, string>) => postTo(env.stack.subgraphs.identity.url, agent, headers);
    try {
      const forged = await new IdentityTokens(randomBytes(32)).sign(admin, 'identity');
      const misaddressed = await env.stack.services.identityTokens.sign(admin, 'control');
      const attempts: Array<Record<string, string>> = [
        {},
        { [IDENTITY_HEADER]: forged },
        { [IDENTITY_HEADER]: misaddressed },
        { [IDENTITY_HEADER]: 'garbage' },
      ];
      for (const headers of attempts) {
        const refused = await call(headers);
        expect(refused.status).toBe(401);
        const body = (await refused.json()) as { errors: Array<{ extensions: { code: string; evidence_pointer: string } }> };
        expect(body.errors[0]!.extensions.code).toBe('ECS_UNAUTHENTICATED');
        expect(body.errors[0]!.extensions.evidence_pointer).toMatch(/^eosc:\/\/evidence\/sha256:/);
      }
    } finally {
      await agent.close();
    }
  });

  it('serves the gateway certificate with an identity signed for the plane', async () => {
    const tls = env.stack.services.tls;
    const agent = new Agent({ connect: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } });
    const admin: Caller = { subject: 'admin', roles: ['platform-admin'], authMethod: 'dev-issuer' };
    try {
      const response = await postTo(env.stack.subgraphs.identity.url, agent, {
        [IDENTITY_HEADER]: await env.stack.services.identityTokens.sign(admin, 'identity'),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: { _service: { sdl: string } } };
      expect(body.data._service.sdl).toContain('type ApiKey');
    } finally {
      await agent.close();
    }
  });
});
