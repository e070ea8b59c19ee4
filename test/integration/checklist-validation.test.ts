import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { IDENTITY_HEADER } from '../../lib/auth/identity-token';
import type { Caller } from '../../lib/auth/caller';
import { objectKeyProblem } from '../../lib/domain/object-key';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { chainEvents } from '../support/chain-events';
import { governance, storageClient } from '../support/storage-client';

const VERIFY = 'query($t: ID!) { verifyChain(tenantId: $t) { valid } }';
const CREATE_KEY = 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }';
const WHOAMI = '{ whoami { subject apiKeyId } }';
/** Impossible calendar dates and times that JavaScript's Date would roll over to a real instant. */
const IMPOSSIBLE = [
  '2026-02-30T00:00:00Z',
  '2027-04-31T00:00:00Z',
  '2027-02-29T00:00:00Z',
  '2100-02-29T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T23:60:00Z',
  '2026-01-01T23:59:60Z',
  '2026-13-01T00:00:00Z',
  '2026-06-01T00:00:00+24:00',
  '2026-06-01T00:00:00+01:60',
];

/** Lines of the security checklist about input validation and refusals, on one running stack. */
describe('security checklist: validation', () => {
  let env: TestStack;
  let tenantId: string;
  let otherTenant: string;
  let adminToken: string;
  let client: ReturnType<typeof storageClient>;
  let bucket: string;

  async function rest(method: string, pathname: string, options: { body?: unknown; token?: string } = {}) {
    const response = await fetch(`${env.url}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token ?? env.adminToken}`,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { text };
    }
    return { status: response.status, body };
  }

  async function chainVerifies(...tenants: string[]): Promise<void> {
    for (const tenant of tenants) {
      const verified = await env.gql<{ verifyChain: { valid: boolean } }>(VERIFY, { t: tenant });
      expect([tenant, verified.data?.verifyChain.valid]).toEqual([tenant, true]);
    }
  }

  beforeAll(async () => {
    // API key lookups are cached (as in production) so that expiry must hold against the cache.
    env = await startTestStack({ env: { API_KEY_CACHE_MS: '60000' } });
    tenantId = uniqueId('t');
    otherTenant = uniqueId('t');
    adminToken = await env.token('tenant-admin', tenantId);
    client = storageClient(env, adminToken);
    for (const id of [tenantId, otherTenant]) expect((await env.gql(CREATE_TENANT, { input: tenantInput(id) })).errors).toBeUndefined();
    bucket = await client.createBucket(tenantId);
  });
  afterAll(() => env.stop());

  it('checklist 70: impossible calendar timestamps (Feb 30, Apr 31, Feb 29 of a common year, hour 24, minute 60) are refused everywhere a timestamp is read', async () => {
    const body = Buffer.from('dated');
    for (const value of IMPOSSIBLE) {
      const header = await client.put(bucket, `dates/${uniqueId()}`, body, governance(body, { 'x-eosc-retention-ttl': value }));
      expect([value, header.status, header.json.code, typeof header.json.evidence_pointer]).toEqual([
        value,
        400,
        'EOSC_INVALID_RETENTION_FORMAT',
        'string',
      ]);
      const multipart = await client.call('POST', client.objectUrl(bucket, `dates/${uniqueId()}`, '?uploads'), {
        headers: governance(body, { 'x-eosc-retention-ttl': value }),
      });
      expect([value, multipart.status, multipart.json.code]).toEqual([value, 400, 'EOSC_INVALID_RETENTION_FORMAT']);
    }
    expect((await chainEvents(env, tenantId)).at(-1)).toMatchObject({
      eventType: 'object.put',
      outcome: 'refused',
      refusalReasonCode: 'invalid_retention_format',
    });

    // Real dates keep working, 29 February of a leap year included, and name exactly that instant.
    const leap = await client.put(
      bucket,
      'dates/leap.txt',
      body,
      governance(body, { 'x-eosc-retention-ttl': '2028-02-29T12:00:00+01:00' }),
    );
    expect([leap.status, leap.json.retention_until]).toEqual([201, '2028-02-29T11:00:00.000Z']);
    for (const value of IMPOSSIBLE) {
      const changed = await client.control('PUT', bucket, 'dates/leap.txt', '?retention', { retention_ttl: value });
      expect([value, changed.status, changed.json.code]).toEqual([value, 400, 'EOSC_INVALID_RETENTION_FORMAT']);
    }
    expect((await client.get(bucket, 'dates/leap.txt', { method: 'HEAD' })).headers['x-eosc-retention-until']).not.toMatch(/^2028-03/);

    const keyInput = (expiresAt: string) => ({ i: { tenantId, name: 'dated', scopes: ['tenant.read'], expiresAt } });
    const binding = (validFrom: string, validUntil: string) => ({
      i: { id: uniqueId('auth'), subject: 's', scopes: ['tenant.create'], issuer: 'urn:x', validFrom, validUntil },
    });
    const CREATE_BINDING = 'mutation($i: CreateAuthorityBindingInput!) { createAuthorityBinding(input: $i) { id } }';
    for (const value of IMPOSSIBLE) {
      const graphql = [
        await env.gql('query($f: EventFilter) { events(filter: $f) { items { id } } }', { f: { tenantId, occurredFrom: value } }),
        await env.gql('query($f: EventFilter) { events(filter: $f) { items { id } } }', { f: { tenantId, occurredTo: value } }),
        await env.gql(CREATE_KEY, keyInput(value)),
        await env.gql(CREATE_BINDING, binding(value, '2030-01-01T00:00:00Z')),
        await env.gql(CREATE_BINDING, binding('2026-01-01T00:00:00Z', value)),
        await env.gql(`query { events(filter: { occurredFrom: "${value}" }) { items { id } } }`),
      ];
      for (const [index, result] of graphql.entries())
        expect([value, index, result.errors?.[0]?.extensions?.code]).toEqual([value, index, 'ECS_BAD_REQUEST']);
      const encoded = encodeURIComponent(value);
      for (const refused of [
        await rest('GET', `/v1/events?tenant=${tenantId}&from=${encoded}`),
        await rest('GET', `/v1/events?tenant=${tenantId}&to=${encoded}`),
        await rest('POST', '/v1/exports', { body: { tenant_id: tenantId, evidence_profile_id: 'ecs-evidence-baseline', from: value } }),
        await rest('POST', '/v1/authority-bindings', {
          body: {
            id: uniqueId('auth'),
            subject: 's',
            scope: ['tenant.create'],
            issuer: 'urn:x',
            valid_from: value,
            valid_until: '2030-01-01T00:00:00Z',
          },
        }),
      ]) {
        expect([value, refused.status, refused.body.code]).toEqual([value, 400, 'ECS_BAD_REQUEST']);
      }
    }
    expect((await env.gql(CREATE_KEY, keyInput('2028-02-29T00:00:00Z'))).errors).toBeUndefined();
    expect((await rest('GET', `/v1/events?tenant=${tenantId}&from=${encodeURIComponent('2024-02-29T23:59:59.999+02:00')}`)).status).toBe(
      200,
    );
    await chainVerifies(tenantId);
  });

  it("checklist 71: a cached API key lookup is refused as soon as the key expires, with the expired key's 401 and evidence", async () => {
    const created = await env.gql<{ createApiKey: { secret: string } }>(CREATE_KEY, {
      i: { tenantId, name: 'short-lived', scopes: ['tenant.read'], expiresAt: new Date(Date.now() + 1500).toISOString() },
    });
    const secret = created.data!.createApiKey.secret;
    // The first use caches the lookup for a minute.
    expect((await env.gqlAs({ apiKey: secret }, WHOAMI)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1700));
    const graphql = await env.gqlAs({ apiKey: secret }, WHOAMI);
    expect(graphql.status).toBe(401);
    expect(graphql.errors?.[0]).toMatchObject({
      message: 'API key is expired',
      extensions: { code: 'ECS_UNAUTHENTICATED', evidence_pointer: expect.any(String) },
    });
    const pointer = graphql.errors![0]!.extensions!.evidence_pointer;
    const refusal = (await chainEvents(env, '_platform')).find((event) => event.evidencePointer === pointer);
    expect(refusal).toMatchObject({
      eventType: 'authority.refusal',
      outcome: 'refused',
      refusalReasonClass: 'authority_missing_or_invalid',
      refusalReasonCode: 'api_key_expired',
    });
    const viaRest = await fetch(`${env.url}/v1/tenants/${tenantId}`, { headers: { 'x-api-key': secret } });
    expect(viaRest.status).toBe(401);
    expect(await viaRest.json()).toMatchObject({
      code: 'ECS_UNAUTHENTICATED',
      message: 'API key is expired',
      evidence_pointer: expect.any(String),
    });
    const viaStorage = await request(client.objectUrl(bucket, 'dates/leap.txt'), { headers: { 'x-api-key': secret } });
    expect(viaStorage.statusCode).toBe(401);
    await viaStorage.body.dump();
    await chainVerifies('_platform');
  });

  it('checklist 72: a copy request that also carries a body is refused with evidence, and nothing is written', async () => {
    const body = Buffer.from('copy source');
    expect((await client.put(bucket, 'copy/source.txt', body, governance(body))).status).toBe(201);
    const copyHeaders = { 'x-eosc-copy-source': `${bucket}/copy/source.txt` };
    const sized = await client.call('PUT', client.objectUrl(bucket, 'copy/with-body.txt'), {
      body: Buffer.from('other bytes'),
      headers: copyHeaders,
    });
    const chunked = await client.call('PUT', client.objectUrl(bucket, 'copy/with-body.txt'), {
      body: Readable.from([Buffer.from('streamed bytes')]),
      headers: copyHeaders,
    });
    for (const refused of [sized, chunked]) {
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({
        code: 'ECS_BAD_REQUEST',
        message: expect.stringMatching(/copy.*body/i),
        evidence_pointer: expect.any(String),
      });
      const event = (await chainEvents(env, tenantId)).find((candidate) => candidate.evidencePointer === refused.json.evidence_pointer);
      expect(event).toMatchObject({
        eventType: 'object.copy',
        outcome: 'refused',
        refusalReasonCode: 'copy_with_body',
        details: expect.objectContaining({ bucket, object_key: 'copy/with-body.txt' }),
      });
    }
    expect((await client.get(bucket, 'copy/with-body.txt', { method: 'HEAD' })).status).toBe(404);
    // The same copy without a body (an empty one) is accepted.
    const copied = await client.call('PUT', client.objectUrl(bucket, 'copy/with-body.txt'), { headers: copyHeaders });
    expect([copied.status, copied.json.origin]).toEqual([201, 'copy']);
    expect((await client.get(bucket, 'copy/with-body.txt')).body.toString()).toBe('copy source');
    await chainVerifies(tenantId);
  });

  it('checklist 73: a query naming two storage operations (legal_hold&retention, uploads&upload_id, ...) is refused with 400 naming both, and nothing is applied', async () => {
    const body = Buffer.from('one operation at a time');
    const stored = await client.put(bucket, 'ops/a.txt', body, governance(body));
    expect(stored.status).toBe(201);
    const versionId = String(stored.json.version_id);
    const before = (await chainEvents(env, tenantId)).length;
    const cases: Array<[string, string, string[], Record<string, string>?]> = [
      ['PUT', '?legal_hold&retention', ['legal_hold', 'retention']],
      ['PUT', '?retention=&legal_hold=', ['legal_hold', 'retention']],
      ['PUT', '?upload_id=u1&part_number=1&legal_hold', ['legal_hold', 'upload_id']],
      ['PUT', '?legal_hold', ['legal_hold', 'x-eosc-copy-source'], { 'x-eosc-copy-source': `${bucket}/ops/a.txt` }],
      ['PUT', `?version_id=${versionId}`, ['version_id']],
      ['PUT', '?part_number=1', ['part_number']],
      ['POST', '?uploads&upload_id=u1', ['upload_id', 'uploads']],
      ['GET', '?versions&upload_id=u1', ['upload_id', 'versions']],
      ['GET', `?versions&version_id=${versionId}`, ['version_id', 'versions']],
      ['GET', '?legal_hold', ['legal_hold']],
      ['DELETE', `?upload_id=u1&version_id=${versionId}`, ['upload_id', 'version_id']],
      ['DELETE', '?legal_hold', ['legal_hold']],
      ['DELETE', '?retention', ['retention']],
    ];
    for (const [method, query, named, headers] of cases) {
      // A body the operation that would win today accepts: nothing but the conflict refuses it.
      const control = JSON.stringify(query.includes('legal_hold') ? { status: 'ON' } : { retention_ttl: 'P3650D' });
      const refused = await client.call(method as 'PUT', client.objectUrl(bucket, 'ops/a.txt', query), {
        body: method === 'PUT' || method === 'POST' ? control : undefined,
        headers: { 'content-type': 'application/json', ...headers },
      });
      expect([method, query, refused.status, refused.json.code]).toEqual([method, query, 400, 'ECS_BAD_REQUEST']);
      for (const name of named)
        expect([method, query, String(refused.json.message)]).toEqual([method, query, expect.stringContaining(name)]);
    }
    const head = await client.get(bucket, 'ops/a.txt', { method: 'HEAD' });
    expect([head.status, head.headers['x-eosc-legal-hold'], head.headers['x-eosc-version-id']]).toEqual([200, 'OFF', versionId]);
    expect(
      (await chainEvents(env, tenantId))
        .slice(before)
        .filter((event) => event.eventType !== 'object.get' && event.eventType !== 'data.usage.receipt'),
    ).toEqual([]);
    // Each operation alone still works.
    expect((await client.control('PUT', bucket, 'ops/a.txt', '?legal_hold', { status: 'ON' })).status).toBe(200);
    expect((await client.control('PUT', bucket, 'ops/a.txt', `?legal_hold&version_id=${versionId}`, { status: 'OFF' })).status).toBe(200);
    expect((await client.control('PUT', bucket, 'ops/a.txt', '?retention', { retention_ttl: 'P1D' })).status).toBe(200);
  });

  it('checklist 74: C1 controls, DEL and the Unicode line and paragraph separators in object keys are refused, by the gateway and by the data plane', async () => {
    const body = Buffer.from('key');
    const controls = ['\u0085', '\u0080', '\u009f', '\u007f', '\u2028', '\u2029', '\u001b'];
    const dataPlane = new URL(env.stack.subgraphs.data.url);
    const tls = env.stack.services.tls;
    const agent = new Agent({ connect: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } });
    const admin: Caller = { subject: `tenant-admin@${tenantId}`, roles: ['tenant-admin'], tenantId, authMethod: 'dev-issuer' };
    try {
      for (const control of controls) {
        const key = `keys/a${encodeURIComponent(control)}b`;
        const viaGateway = await client.put(bucket, key, body, governance(body));
        expect([control.codePointAt(0), viaGateway.status, viaGateway.json.code]).toEqual([
          control.codePointAt(0),
          400,
          'EOSC_INVALID_OBJECT_KEY',
        ]);
        const direct = await request(new URL(`/data/storage/${bucket}/objects/${key}`, dataPlane), {
          method: 'PUT',
          headers: { ...governance(body), [IDENTITY_HEADER]: await env.stack.services.identityTokens.sign(admin, 'data') },
          body,
          dispatcher: agent,
        });
        const json = (await direct.body.json()) as { code?: string };
        // The plane's general input boundary may refuse the path before the storage routes do.
        expect([control.codePointAt(0), direct.statusCode, json.code]).toEqual([
          control.codePointAt(0),
          400,
          expect.stringMatching(/^(EOSC_INVALID_OBJECT_KEY|ECS_BAD_REQUEST)$/),
        ]);
        // The storage routes' own check (also the copy source's): the same rule as the gateway's.
        expect([control.codePointAt(0), objectKeyProblem(`keys/a${control}b`)]).toEqual([
          control.codePointAt(0),
          'the object key contains control characters',
        ]);
        // A copy source naming such a key is refused the same way.
        const copy = await client.call('PUT', client.objectUrl(bucket, 'keys/copy.txt'), {
          headers: { 'x-eosc-copy-source': `${bucket}/${key}` },
        });
        expect([control.codePointAt(0), copy.status]).toEqual([control.codePointAt(0), 400]);
      }
    } finally {
      await agent.close();
    }
    // Printable non-ASCII (accents, NBSP, emoji) stays allowed.
    for (const key of ['caf\u00e9', 'a\u00a0b', 'x\u{1f600}']) {
      expect((await client.put(bucket, `keys/${encodeURIComponent(key)}`, body, governance(body))).status).toBe(201);
    }
  });

  it('checklist 75: a deleted tenant stays deleted: resume, suspend, update and delete again are refused with 409 and evidence', async () => {
    const id = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(id) })).errors).toBeUndefined();
    expect((await env.gql('mutation($id: ID!) { deleteTenant(id: $id) { status } }', { id })).errors).toBeUndefined();
    const mutations = [
      'mutation($id: ID!) { resumeTenant(id: $id) { status } }',
      'mutation($id: ID!) { suspendTenant(id: $id) { status } }',
      'mutation($id: ID!) { updateTenant(id: $id, input: { classificationCeiling: secret }) { status } }',
      'mutation($id: ID!) { deleteTenant(id: $id) { status } }',
    ];
    for (const mutation of mutations) {
      const refused = await env.gql(mutation, { id });
      expect([mutation, refused.errors?.[0]?.extensions?.code]).toEqual([mutation, 'ECS_CONFLICT']);
      expect(refused.errors?.[0]?.message).toMatch(/deleted/);
      const event = (await chainEvents(env, id)).find(
        (candidate) => candidate.evidencePointer === refused.errors?.[0]?.extensions?.evidence_pointer,
      );
      expect(event).toMatchObject({ outcome: 'refused', refusalReasonClass: 'policy_denied', refusalReasonCode: 'tenant_deleted' });
    }
    for (const [method, path, body] of [
      ['PATCH', `/v1/tenants/${id}`, { jurisdiction: 'FR' }],
      ['POST', `/v1/tenants/${id}/suspend`, undefined],
      ['DELETE', `/v1/tenants/${id}`, undefined],
    ] as const) {
      const refused = await rest(method, path, { body });
      expect([method, refused.status, refused.body.code, typeof refused.body.evidence_pointer]).toEqual([
        method,
        409,
        'ECS_CONFLICT',
        'string',
      ]);
    }
    const tenant = await env.gql<{ tenant: { status: string; classificationCeiling: string; jurisdiction: string } }>(
      'query($id: ID!) { tenant(id: $id) { status classificationCeiling jurisdiction } }',
      { id },
    );
    expect(tenant.data!.tenant).toEqual({ status: 'deleted', classificationCeiling: 'internal', jurisdiction: 'DE' });
    expect((await chainEvents(env, id)).filter((event) => event.outcome === 'accepted').map((event) => event.eventType)).toEqual([
      'tenant.create',
      'tenant.delete',
    ]);
    await chainVerifies(id);
  });

  it('checklist 76: reading or acting on another tenant\'s resources by id says "not found or not allowed" and never names the owner', async () => {
    const workload = await env.gql<{ createWorkload: { id: string } }>(CREATE_WORKLOAD, {
      input: { tenantId: otherTenant, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
    });
    const workloadId = workload.data!.createWorkload.id;
    const foreignBucket = await client.createBucket(otherTenant);
    const body = Buffer.from('foreign');
    expect((await client.put(foreignBucket, 'secret.txt', body, governance(body), env.adminToken)).status).toBe(201);
    const key = await env.gql<{ createApiKey: { apiKey: { id: string } } }>(CREATE_KEY, {
      i: { tenantId: otherTenant, name: 'theirs', scopes: ['tenant.read'] },
    });
    const eventId = (
      await env.gql<{ events: { items: Array<{ id: string }> } }>('query($f: EventFilter) { events(filter: $f) { items { id } } }', {
        f: { tenantId: otherTenant },
      })
    ).data!.events.items[0]!.id;
    const before = (await chainEvents(env, otherTenant)).length;

    const graphql = [
      await env.gqlAs(adminToken, 'query($id: ID!) { workload(id: $id) { id } }', { id: workloadId }),
      await env.gqlAs(adminToken, 'mutation($id: ID!) { deleteWorkload(id: $id) { id } }', { id: workloadId }),
      await env.gqlAs(adminToken, 'query($n: ID!) { bucket(name: $n) { name } }', { n: foreignBucket }),
      await env.gqlAs(adminToken, 'query($id: ID!) { apiKey(id: $id) { id } }', { id: key.data!.createApiKey.apiKey.id }),
      await env.gqlAs(adminToken, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.data!.createApiKey.apiKey.id }),
      await env.gqlAs(adminToken, 'query($id: ID!) { event(id: $id) { id } }', { id: eventId }),
    ];
    const messages: string[] = [];
    for (const [index, result] of graphql.entries()) {
      expect([index, result.errors?.[0]?.extensions?.code]).toEqual([index, 'ECS_FORBIDDEN']);
      messages.push(result.errors![0]!.message);
    }
    for (const [method, path] of [
      ['GET', `/v1/workloads/${workloadId}`],
      ['DELETE', `/v1/workloads/${workloadId}`],
      ['GET', `/v1/storage/${foreignBucket}`],
      ['GET', `/v1/events/${eventId}`],
    ] as const) {
      const refused = await rest(method, path, { token: adminToken });
      expect([method, path, refused.status, refused.body.code]).toEqual([method, path, 403, 'ECS_FORBIDDEN']);
      messages.push(String(refused.body.message));
    }
    for (const refused of [
      await client.get(foreignBucket, 'secret.txt'),
      await client.get(foreignBucket, 'secret.txt', { method: 'DELETE' }),
      await client.control('PUT', foreignBucket, 'secret.txt', '?legal_hold', { status: 'ON' }),
      await client.call('PUT', client.objectUrl(bucket, 'stolen.txt'), {
        headers: { 'x-eosc-copy-source': `${foreignBucket}/secret.txt` },
      }),
    ]) {
      expect([refused.status, refused.json.code]).toEqual([403, 'ECS_FORBIDDEN']);
      messages.push(String(refused.json.message));
    }
    for (const message of messages) {
      expect(message).toMatch(/not found or not allowed/);
      expect(message).not.toContain(otherTenant);
    }
    // The owner's chain keeps the detail: who tried what, from which tenant.
    const pointer = graphql[0]!.errors![0]!.extensions!.evidence_pointer;
    const refusal = (await chainEvents(env, otherTenant)).slice(before).find((event) => event.evidencePointer === pointer);
    expect(refusal).toMatchObject({
      outcome: 'refused',
      refusalReasonCode: 'outside_tenant_scope',
      refusalSubject: 'workload.read',
      details: expect.objectContaining({ caller_tenant_id: tenantId }),
    });
    await chainVerifies(otherTenant);
  });

  it('checklist 77: /metrics refused to a non-platform caller carries an evidence pointer to the recorded refusal', async () => {
    const callers: Array<[string, string]> = [
      [tenantId, adminToken],
      [tenantId, await env.token('reader', tenantId)],
      ['_platform', await env.token('auditor')],
    ];
    for (const [chain, token] of callers) {
      const response = await fetch(`${env.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      const refused = (await response.json()) as Record<string, unknown>;
      expect([chain, response.status, refused.code]).toEqual([chain, 403, 'ECS_FORBIDDEN']);
      expect(refused.evidence_pointer).toMatch(/^eosc:\/\/evidence\/sha256:/);
      const event = (await chainEvents(env, chain)).find((candidate) => candidate.evidencePointer === refused.evidence_pointer);
      expect(event).toMatchObject({
        eventType: 'authority.refusal',
        outcome: 'refused',
        refusalReasonClass: 'authority_missing_or_invalid',
        refusalSubject: 'metrics.read',
      });
    }
    expect((await fetch(`${env.url}/metrics`, { headers: { authorization: `Bearer ${env.adminToken}` } })).status).toBe(200);
    await chainVerifies(tenantId, '_platform');
  });
});
