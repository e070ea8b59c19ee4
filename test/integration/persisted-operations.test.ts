// Automatic persisted queries, a manifest of operations sent by id, and the safelist
// (GRAPHQL_PERSISTED_ONLY): over HTTP POST and GET, over the websocket with a real graphql-ws
// client, and the REST adapter beside them, against a running stack.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { makeTempDir } from '../../testkit/temp-dir';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { commitEvents, liveClient } from '../support/live-events';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const TENANT_BY_ID = 'query TenantById($id: ID!) { tenant(id: $id) { id status } }';
const TENANT_NAME = 'query TenantName($id: ID!) { tenant(id: $id) { id status jurisdiction } }';
const AUDIT_FEED = 'subscription AuditFeed($tenantId: ID) { auditEvents(tenantId: $tenantId, afterSequence: 0) { eventType sequence } }';
/** Ids as Apollo's manifest generator makes them (SHA-256 of the text), and one chosen by hand. */
const MANIFEST = {
  format: 'apollo-persisted-query-manifest',
  version: 1,
  operations: [
    { id: sha256(TENANT_BY_ID), name: 'TenantById', type: 'query', body: TENANT_BY_ID },
    { id: 'tenant-name-v1', name: 'TenantName', type: 'query', body: TENANT_NAME },
    { id: sha256(AUDIT_FEED), name: 'AuditFeed', type: 'subscription', body: AUDIT_FEED },
    { id: 'create-tenant', name: 'CreateTenant', type: 'mutation', body: CREATE_TENANT },
  ],
};
const NOT_LISTED = 'query Unlisted($id: ID!) { tenant(id: $id) { id jurisdiction } }';

interface Answer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
  headers: Headers;
}

async function startWithManifest(env: Record<string, string>): Promise<{ stack: TestStack; tenantId: string; removeDir(): Promise<void> }> {
  const dir = await makeTempDir();
  const file = path.join(dir.path, 'operations.json');
  await writeFile(file, JSON.stringify(MANIFEST));
  const stack = await startTestStack({ env: { GRAPHQL_PERSISTED_MANIFEST: file, ...env } });
  const tenantId = uniqueId('t');
  expect((await stack.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
  return { stack, tenantId, removeDir: dir.remove };
}

function client(env: () => TestStack) {
  const post = async (body: Record<string, unknown>): Promise<Answer> => {
    const response = await fetch(`${env().url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env().adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'], headers: response.headers };
  };
  const get = async (params: Record<string, string>): Promise<Answer> => {
    const response = await fetch(`${env().url}/graphql?${new URLSearchParams(params).toString()}`, {
      // A GET must say it is not a simple browser request (Apollo's CSRF prevention).
      headers: { authorization: `Bearer ${env().adminToken}`, 'apollo-require-preflight': 'true' },
    });
    return { status: response.status, body: (await response.json()) as Answer['body'], headers: response.headers };
  };
  return { post, get };
}

const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

describe('persisted operations: automatic persisted queries and a manifest', () => {
  let env: TestStack;
  let tenantId: string;
  let removeDir: () => Promise<void> = async () => undefined;
  const { post, get } = client(() => env);

  beforeAll(async () => {
    ({ stack: env, tenantId, removeDir } = await startWithManifest({}));
  });
  afterAll(async () => {
    await env?.stop();
    await removeDir();
  });

  it('registers a document by its SHA-256 and then runs it from the hash alone, over POST and GET', async () => {
    // A document nobody has sent yet, so no other test registered it.
    const document = `query Registered($id: ID!) { tenant(id: $id) { id status jurisdiction } } # ${uniqueId('q')}`;
    const hash = sha256(document);
    const variables = { id: tenantId };
    // Unknown hash: Apollo's answer that clients act on (status 200, message PersistedQueryNotFound).
    const unknown = await post({ extensions: apq(hash), variables });
    expect(unknown.status).toBe(200);
    expect(unknown.body.errors).toEqual([
      expect.objectContaining({
        message: 'PersistedQueryNotFound',
        extensions: expect.objectContaining({ apollo_code: 'PERSISTED_QUERY_NOT_FOUND' }),
      }),
    ]);
    expect(unknown.body.data ?? null).toBeNull();

    const registered = await post({ query: document, extensions: apq(hash), variables });
    expect(registered.body).toEqual({ data: { tenant: { id: tenantId, status: 'active', jurisdiction: expect.any(String) } } });
    const byHash = await post({ extensions: apq(hash), variables });
    expect(byHash.body).toEqual(registered.body);
    const byGet = await get({ extensions: JSON.stringify(apq(hash)), variables: JSON.stringify(variables) });
    expect([byGet.status, byGet.body]).toEqual([200, registered.body]);
  });

  it('refuses a hash that does not match the document sent with it, and registers nothing', async () => {
    const document = `query Mismatch($id: ID!) { tenant(id: $id) { id } } # ${uniqueId('q')}`;
    const wrongHash = sha256(`${document} `);
    const answer = await post({ query: document, extensions: apq(wrongHash), variables: { id: tenantId } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toBe('provided sha does not match query');
    expect((await post({ extensions: apq(wrongHash), variables: { id: tenantId } })).body.errors?.[0]?.message).toBe(
      'PersistedQueryNotFound',
    );
  });

  it("runs the manifest's operations by id without registration: documentId (POST and GET) and the APQ hash", async () => {
    const variables = { id: tenantId };
    const expected = { data: { tenant: { id: tenantId, status: 'active', jurisdiction: expect.any(String) } } };
    expect((await post({ documentId: 'tenant-name-v1', variables })).body).toEqual(expected);
    const byGet = await get({ documentId: 'tenant-name-v1', variables: JSON.stringify(variables) });
    expect([byGet.status, byGet.body]).toEqual([200, expected]);
    expect((await post({ extensions: apq(sha256(TENANT_BY_ID)), variables })).body).toEqual({
      data: { tenant: { id: tenantId, status: 'active' } },
    });
  });

  it('answers 400 for a documentId the manifest does not list, or one sent with another document', async () => {
    const unknown = await post({ documentId: 'no-such-operation', variables: { id: tenantId } });
    expect([unknown.status, unknown.body.errors?.[0]?.extensions?.code, unknown.body.errors?.[0]?.extensions?.field]).toEqual([
      400,
      'ECS_BAD_REQUEST',
      'documentId',
    ]);
    const mismatch = await post({ documentId: 'tenant-name-v1', query: TENANT_BY_ID, variables: { id: tenantId } });
    expect([mismatch.status, mismatch.body.errors?.[0]?.extensions?.field]).toEqual([400, 'query']);
    const notText = await post({ documentId: 42, variables: { id: tenantId } });
    expect(notText.status).toBe(400);
  });

  it('still runs documents sent as text when the safelist is off', async () => {
    expect((await post({ query: NOT_LISTED, variables: { id: tenantId } })).body).toEqual({
      data: { tenant: { id: tenantId, jurisdiction: expect.any(String) } },
    });
  });
});

describe('persisted operations: the safelist (GRAPHQL_PERSISTED_ONLY=true)', () => {
  let env: TestStack;
  let tenantId: string;
  let removeDir: () => Promise<void> = async () => undefined;
  const { post, get } = client(() => env);
  const clients: Client[] = [];

  beforeAll(async () => {
    ({ stack: env, tenantId, removeDir } = await startWithManifest({ GRAPHQL_PERSISTED_ONLY: 'true' }));
  });
  afterAll(async () => {
    await Promise.all(clients.map((created) => created.dispose()));
    await env?.stop();
    await removeDir();
  });

  it('runs a listed operation by documentId, by hash, and as its exact text', async () => {
    const variables = { id: tenantId };
    const expected = { data: { tenant: { id: tenantId, status: 'active' } } };
    expect((await post({ documentId: sha256(TENANT_BY_ID), variables })).body).toEqual(expected);
    expect((await post({ extensions: apq(sha256(TENANT_BY_ID)), variables })).body).toEqual(expected);
    expect((await post({ query: TENANT_BY_ID, variables })).body).toEqual(expected);
    expect((await post({ query: TENANT_BY_ID, extensions: apq(sha256(TENANT_BY_ID)), variables })).body).toEqual(expected);
    const byGet = await get({ extensions: JSON.stringify(apq(sha256(TENANT_BY_ID))), variables: JSON.stringify(variables) });
    expect(byGet.body).toEqual(expected);
  });

  it('refuses any other document with 403 and request.refusal evidence, and lets no client register one', async () => {
    const variables = { id: tenantId };
    const asText = await post({ query: NOT_LISTED, variables });
    expect(asText.status).toBe(403);
    expect(asText.body.data ?? null).toBeNull();
    const error = asText.body.errors?.[0];
    expect(error?.extensions?.code).toBe('ECS_FORBIDDEN');
    expect(error?.message).toMatch(/persisted-operation manifest/);
    const pointer = String(error?.extensions?.evidence_pointer);
    // Registration through APQ is the same refusal; the hash stays unknown.
    const register = await post({ query: NOT_LISTED, extensions: apq(sha256(NOT_LISTED)), variables });
    expect(register.status).toBe(403);
    expect((await post({ extensions: apq(sha256(NOT_LISTED)), variables })).body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
    // A GET is no way around it, and neither is a whitespace variant of a listed text.
    expect((await get({ query: NOT_LISTED, variables: JSON.stringify(variables) })).status).toBe(403);
    expect((await post({ query: `${TENANT_BY_ID} `, variables })).status).toBe(403);

    const event = await env.stack.services.db.prisma.evidenceEvent.findFirst({ where: { evidencePointer: pointer } });
    const stored = JSON.parse(event!.canonical) as Record<string, unknown>;
    expect(stored).toMatchObject({
      event_type: 'request.refusal',
      outcome: 'refused',
      refusal_reason_class: 'policy_denied',
      refusal_reason_code: 'operation_not_persisted',
      operation_digest: `sha256:${sha256(NOT_LISTED)}`,
    });
    // The administrator's own free-form query is refused too: the safelist has no exceptions.
    const administrator = await env.gqlAs(env.adminToken, '{ __typename }');
    expect([administrator.status, administrator.errors?.[0]?.extensions?.code]).toEqual([403, 'ECS_FORBIDDEN']);
  });

  it('leaves the REST adapter working: its operations are the gateway’s own', async () => {
    const response = await fetch(`${env.url}/v1/tenants/${tenantId}`, { headers: { authorization: `Bearer ${env.adminToken}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(tenantId);
  });

  it('streams a listed subscription sent by hash over the websocket, and refuses an unlisted one', async () => {
    const live = liveClient(env.url, { token: await env.token('auditor', tenantId) });
    clients.push(live);
    const received: Array<{ eventType: string; sequence: number }> = [];
    const firstEvent = new Promise<void>((resolve, reject) => {
      live.subscribe<{ auditEvents: { eventType: string; sequence: number } }>(
        { query: '', extensions: apq(sha256(AUDIT_FEED)), variables: { tenantId } },
        {
          next: (message) => {
            if (message.data) received.push(message.data.auditEvents);
            if (received.length > 0) resolve();
            if (message.errors) reject(new Error(JSON.stringify(message.errors)));
          },
          error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
          complete: () => undefined,
        },
      );
    });
    await commitEvents(env.stack.services.db, tenantId, 1);
    await firstEvent;
    expect(received[0]).toEqual({ eventType: expect.any(String), sequence: 1 });

    const refused = await new Promise<ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>>((resolve, reject) => {
      live.subscribe(
        { query: 'subscription Other { auditEvents { id } }' },
        {
          next: () => reject(new Error('an unlisted subscription was served')),
          error: (errors) => resolve(errors as ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>),
          complete: () => reject(new Error('completed without an error')),
        },
      );
    });
    expect(refused[0]?.extensions).toMatchObject({
      code: 'ECS_FORBIDDEN',
      evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
    });
    const unknownHash = await new Promise<ReadonlyArray<{ message: string }>>((resolve, reject) => {
      live.subscribe(
        { query: '', extensions: apq('ab'.repeat(32)) },
        {
          next: () => reject(new Error('served')),
          error: (errors) => resolve(errors as ReadonlyArray<{ message: string }>),
          complete: () => undefined,
        },
      );
    });
    expect(unknownHash[0]?.message).toBe('PersistedQueryNotFound');
  });
});

describe('persisted operations: configuration', () => {
  it('refuses to start with a manifest that holds a broken document, naming it', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir.path, 'operations.json');
    await writeFile(file, JSON.stringify({ 'broken-1': 'query { tenant(id: "x") { id ' }));
    try {
      await expect(startTestStack({ env: { GRAPHQL_PERSISTED_MANIFEST: file } })).rejects.toThrow(
        /GRAPHQL_PERSISTED_MANIFEST: .*operation broken-1: Syntax Error/,
      );
    } finally {
      await dir.remove();
    }
  });
});
