import { BASELINE_V1_TEXT } from '../../lib/policy/baseline-v1';
import { CREATE_TENANT, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

type Json = Record<string, any>;

describe('REST routes (/v1): one GraphQL operation each', () => {
  let env: TestStack;
  const tenant = uniqueId('rest');
  let tenantAdmin: string;
  beforeAll(async () => {
    env = await startTestStack();
    tenantAdmin = await env.token('tenant-admin', tenant);
  });
  afterAll(() => env.stop());

  const call = async (
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> } = {},
  ) => {
    const token = options.token === undefined ? env.adminToken : options.token;
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const response = await fetch(`${env.url}${path}`, {
      method,
      body,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...options.headers,
      },
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Json };
  };
  const tenantBody = (id: string) => ({ id, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' });
  const workloadBody = { tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE, jurisdiction: 'DE' };

  it('creates, reads, updates, suspends and deletes a tenant, and REST equals GraphQL', async () => {
    const created = await call('POST', '/v1/tenants', { body: tenantBody(tenant) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...tenantBody(tenant), classification_ceiling: 'internal', status: 'active' });

    const read = await call('GET', `/v1/tenants/${tenant}`);
    expect(read.status).toBe(200);
    const graph = await env.gql<{ tenant: Json }>(
      'query($id: ID!) { tenant(id: $id) { id authorityBinding jurisdiction classificationCeiling policyBaseline status createdAt updatedAt } }',
      { id: tenant },
    );
    const t = graph.data!.tenant;
    expect(read.body).toEqual({
      id: t.id,
      authority_binding: t.authorityBinding,
      jurisdiction: t.jurisdiction,
      classification_ceiling: t.classificationCeiling,
      policy_baseline: t.policyBaseline,
      status: t.status,
      created_at: t.createdAt,
      updated_at: t.updatedAt,
    });

    const patched = await call('PATCH', `/v1/tenants/${tenant}`, { body: { id: tenant, classification_ceiling: 'restricted' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: tenant, classification_ceiling: 'restricted', jurisdiction: 'DE' });
    expect((await call('PATCH', `/v1/tenants/${tenant}`, { body: { id: 'other' } })).body).toEqual({
      code: 'ECS_BAD_REQUEST',
      message: 'id is immutable: it must be absent or equal to the path id',
    });
    expect((await call('PATCH', `/v1/tenants/${tenant}`, { body: { status: 'deleted' } })).body).toEqual({
      code: 'ECS_BAD_REQUEST',
      message: 'status is active: status changes through POST /v1/tenants/{id}/suspend and DELETE /v1/tenants/{id}',
    });
    expect((await call('PATCH', `/v1/tenants/${tenant}`, { body: {} })).status).toBe(400);
    expect((await call('PATCH', '/v1/tenants/nope-nope', { body: { jurisdiction: 'FR' } })).status).toBe(404);

    const listed = await call('GET', '/v1/tenants?limit=1000');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item: Json) => item.id)).toContain(tenant);
    expect((await call('POST', '/v1/tenants', { body: tenantBody(uniqueId('rest')) })).status).toBe(201);
    const paged = await call('GET', '/v1/tenants?limit=1');
    expect(paged.body.items).toHaveLength(1);
    expect(typeof paged.body.next_cursor).toBe('string');
    const next = await call('GET', `/v1/tenants?limit=1&cursor=${encodeURIComponent(paged.body.next_cursor)}`);
    expect(next.body.items[0].id).not.toBe(paged.body.items[0].id);
    expect((await call('GET', '/v1/tenants?cursor=garbage')).body.code).toBe('ECS_INVALID_CURSOR');

    expect((await call('GET', '/v1/tenants/nope-nope')).body).toEqual({ code: 'ECS_NOT_FOUND', message: 'tenant nope-nope not found' });
    expect((await call('POST', '/v1/tenants', { body: tenantBody(tenant) })).status).toBe(409);
    const forbidden = await call('POST', '/v1/tenants', { body: tenantBody(uniqueId()), token: tenantAdmin });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:/) });

    const other = uniqueId('rest');
    expect((await call('POST', '/v1/tenants', { body: tenantBody(other) })).status).toBe(201);
    const suspended = await call('POST', `/v1/tenants/${other}/suspend`);
    expect(suspended.status).toBe(202);
    expect(suspended.body).toMatchObject({ id: other, status: 'suspended' });
    const deleted = await call('DELETE', `/v1/tenants/${other}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect((await call('GET', `/v1/tenants/${other}`)).body.status).toBe('deleted');
    expect((await call('DELETE', '/v1/tenants/nope-nope')).status).toBe(404);
    expect((await call('POST', '/v1/tenants/nope-nope/suspend')).status).toBe(404);
  });

  it('creates, lists, reads and deletes workloads, and REST equals GraphQL', async () => {
    const created = await call('POST', '/v1/workloads', { body: workloadBody, token: tenantAdmin });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...workloadBody, status: 'admitted', classification: 'internal', id: expect.any(String) });
    expect(created.body).not.toHaveProperty('policy_ref');
    const id = created.body.id as string;

    const read = await call('GET', `/v1/workloads/${id}`, { token: await env.token('reader', tenant) });
    expect(read.status).toBe(200);
    const graph = await env.gql<{ workload: Json }>(
      'query($id: ID!) { workload(id: $id) { id tenantId envelopeType imageRef classification jurisdiction status createdAt updatedAt } }',
      { id },
    );
    const w = graph.data!.workload;
    expect(read.body).toEqual({
      id: w.id,
      tenant_id: w.tenantId,
      envelope_type: w.envelopeType,
      image_ref: w.imageRef,
      classification: w.classification,
      jurisdiction: w.jurisdiction,
      status: w.status,
      created_at: w.createdAt,
      updated_at: w.updatedAt,
    });

    // tenant defaults to the caller's; platform callers name it.
    const mine = await call('GET', '/v1/workloads', { token: tenantAdmin });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((item: Json) => item.id)).toEqual([id]);
    expect(mine.body).not.toHaveProperty('next_cursor');
    expect((await call('GET', `/v1/workloads?tenant=${tenant}`)).body.items).toHaveLength(1);
    expect((await call('GET', '/v1/workloads')).body).toMatchObject({ code: 'ECS_BAD_REQUEST' });
    expect((await call('GET', '/v1/workloads?tenant=acme-other', { token: tenantAdmin })).status).toBe(403);

    // a server-owned field that disagrees with the server is refused, naming the field; unknown fields too
    expect(
      (await call('POST', '/v1/workloads', { body: { ...workloadBody, status: 'running' }, token: tenantAdmin })).body.message,
    ).toMatch(/^field status: status is the server's: a new workload is admitted/);
    expect((await call('POST', '/v1/workloads', { body: { ...workloadBody, created_by: 'me' }, token: tenantAdmin })).body).toEqual({
      code: 'ECS_BAD_REQUEST',
      message: 'unknown field: created_by',
    });
    const wrongEnum = await call('POST', '/v1/workloads', { body: { ...workloadBody, envelope_type: 'pod' }, token: tenantAdmin });
    expect(wrongEnum.status).toBe(400);
    expect(wrongEnum.body.message).toMatch(/^field envelope_type:/);
    const missing = await call('POST', '/v1/workloads', { body: { ...workloadBody, image_ref: undefined }, token: tenantAdmin });
    expect(missing.body.message).toMatch(/^field image_ref:/);

    const deleted = await call('DELETE', `/v1/workloads/${id}`, { token: tenantAdmin });
    expect(deleted.status).toBe(204);
    expect((await call('GET', `/v1/workloads/${id}`)).body.status).toBe('terminated');
    expect((await call('GET', '/v1/workloads/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('lists and reads events in the Core10-05 shape, equal to GraphQL, with limit and cursor', async () => {
    const listed = await call('GET', `/v1/events?tenant=${tenant}&limit=2`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(2);
    expect(typeof listed.body.next_cursor).toBe('string');
    const [first] = listed.body.items as Json[];
    expect(first).toMatchObject({ tenant_id: tenant, sequence: 1, outcome: 'accepted', event_hash: expect.stringMatching(/^sha256:/) });
    expect(first).not.toHaveProperty('eventType');

    const graph = await env.gql<{ event: Json }>(
      'query($id: ID!) { event(id: $id) { id eventType occurredAt tenantId actor outcome sequence evidencePointer chainId eventHash canonical } }',
      { id: first!.id },
    );
    const e = graph.data!.event;
    expect(first).toMatchObject({
      id: e.id,
      event_type: e.eventType,
      occurred_at: e.occurredAt,
      tenant_id: e.tenantId,
      actor: e.actor,
      outcome: e.outcome,
      sequence: e.sequence,
      evidence_pointer: e.evidencePointer,
      chain_id: e.chainId,
      event_hash: e.eventHash,
    });
    const one = await call('GET', `/v1/events/${first!.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(first);

    const rest = await call('GET', `/v1/events?tenant=${tenant}&limit=1000&cursor=${encodeURIComponent(listed.body.next_cursor)}`);
    expect(rest.body.items[0].sequence).toBe(3);
    expect(rest.body).not.toHaveProperty('next_cursor');

    const mine = await call('GET', '/v1/events?event_type=tenant.update', { token: tenantAdmin });
    expect(mine.status).toBe(200);
    expect(mine.body.items.length).toBeGreaterThan(0);
    expect(mine.body.items.every((item: Json) => item.event_type === 'tenant.update' && item.tenant_id === tenant)).toBe(true);
    const future = await call('GET', `/v1/events?tenant=${tenant}&from=${new Date(Date.now() + 3_600_000).toISOString()}`);
    expect(future.body).toEqual({ items: [] });
    const window = await call(
      'GET',
      `/v1/events?tenant=${tenant}&outcome=accepted&to=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}&limit=1000`,
    );
    expect(window.body.items.length).toBeGreaterThanOrEqual(3);

    for (const limit of ['0', '1001', 'abc', '1.5', '-1', '']) {
      const refused = await call('GET', `/v1/events?limit=${limit}`);
      expect({ limit, status: refused.status, code: refused.body.code }).toEqual({ limit, status: 400, code: 'ECS_INVALID_PAGE_SIZE' });
    }
    expect((await call('GET', '/v1/events?limit=1000')).status).toBe(200);
    expect((await call('GET', '/v1/events?outcome=maybe')).status).toBe(400);
    expect((await call('GET', '/v1/events?from=yesterday')).body.message).toMatch(/^query parameter from:/);
    expect((await call('GET', '/v1/events?colour=red')).body).toEqual({
      code: 'ECS_BAD_REQUEST',
      message: 'unknown query parameter: colour',
    });
    expect((await call('GET', '/v1/events/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('serves evidence artifacts within their tenant only', async () => {
    const events = await call('GET', `/v1/events?tenant=${tenant}&limit=1`);
    const pointer = events.body.items[0].evidence_pointer as string;
    const path = `/v1/evidence/${encodeURIComponent(pointer)}`;
    const own = await call('GET', path, { token: tenantAdmin });
    expect(own.status).toBe(200);
    expect(typeof own.body).toBe('object');
    const graph = await env.gql<{ evidence: { content: Json; digest: string } }>(
      'query($p: String!, $t: ID!) { evidence(pointer: $p, tenantId: $t) { content digest } }',
      { p: pointer, t: tenant },
    );
    expect(own.body).toEqual(graph.data!.evidence.content);
    expect(own.headers.get('etag')).toBe(`"${graph.data!.evidence.digest}"`);
    expect((await call('GET', `${path}?tenant=${tenant}`)).status).toBe(200);
    expect((await call('GET', path)).body.code).toBe('ECS_BAD_REQUEST');

    const stranger = uniqueId('rest');
    expect((await call('POST', '/v1/tenants', { body: tenantBody(stranger) })).status).toBe(201);
    const elsewhere = await call('GET', `${path}?tenant=${stranger}`);
    expect(elsewhere.status).toBe(404);
    expect((await call('GET', path, { token: await env.token('tenant-admin', stranger) })).status).toBe(404);
    expect(
      (await call('GET', `/v1/evidence/${encodeURIComponent(`eosc://evidence/sha256:${'0'.repeat(64)}`)}`, { token: tenantAdmin })).status,
    ).toBe(404);
  });

  it('publishes, lists and reads policy baselines with their snapshots', async () => {
    const name = uniqueId('pol');
    const created = await call('POST', '/v1/policy-baselines', { body: { name, text: BASELINE_V1_TEXT } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: name,
      name,
      current_snapshot_id: expect.stringMatching(/^polsnap:sha256:/),
      snapshots: [
        {
          id: created.body.current_snapshot_id,
          version: 1,
          issuer: expect.any(String),
          created_at: expect.any(String),
          text: BASELINE_V1_TEXT,
        },
      ],
    });
    const read = await call('GET', `/v1/policy-baselines/${name}`, { token: tenantAdmin });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    const listed = await call('GET', '/v1/policy-baselines?limit=1000');
    expect(listed.body.items.map((item: Json) => item.id)).toEqual(expect.arrayContaining(['ecs-baseline-v1', name]));
    expect((await call('GET', '/v1/policy-baselines/nope')).status).toBe(404);
    expect((await call('POST', '/v1/policy-baselines', { body: { name: uniqueId('pol'), text: 'not cedar' } })).status).toBe(400);
    expect((await call('POST', '/v1/policy-baselines', { body: { name, text: BASELINE_V1_TEXT }, token: tenantAdmin })).status).toBe(403);
  });

  describe('request hygiene', () => {
    it('checklist 35: refuses bodies that are not JSON, bodies on GET/DELETE, oversized and malformed bodies', async () => {
      const form = await call('POST', '/v1/tenants', { raw: 'id=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(form.status).toBe(415);
      expect(form.body).toEqual({ code: 'ECS_UNSUPPORTED_MEDIA_TYPE', message: 'request body must be application/json' });
      const text = await call('PATCH', `/v1/tenants/${tenant}`, { raw: '{}', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
      const onGet = await call('DELETE', `/v1/tenants/${tenant}`, { raw: '{}' });
      expect(onGet.status).toBe(415);
      expect((await call('GET', `/v1/tenants/${tenant}`)).body.status).not.toBe('deleted');

      const big = await call('POST', '/v1/tenants', { raw: JSON.stringify({ ...tenantBody(uniqueId()), pad: 'x'.repeat(1_100_000) }) });
      expect(big.status).toBe(413);
      expect(big.body).toEqual({ code: 'ECS_PAYLOAD_TOO_LARGE', message: 'request body is larger than 1mb' });

      const malformed = await call('POST', '/v1/tenants', { raw: '{"id": ' });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({ code: 'ECS_BAD_REQUEST', message: 'request body is not valid JSON' });
      expect((await call('POST', '/v1/tenants', { raw: '[1,2]' })).body.message).toBe('request body must be a JSON object');
      expect((await call('POST', '/v1/tenants', { raw: '"x"' })).status).toBe(400);
      expect((await call('POST', '/v1/tenants')).body).toMatchObject({
        code: 'ECS_BAD_REQUEST',
        message: 'request body is required (application/json)',
      });
      expect((await call('POST', `/v1/tenants/${tenant}/suspend`, { body: { reason: 'x' } })).body).toEqual({
        code: 'ECS_BAD_REQUEST',
        message: 'unknown field: reason',
      });
      const charset = await call('POST', '/v1/tenants', { raw: '{}', headers: { 'content-type': 'application/json; charset=utf-8' } });
      expect(charset.status).toBe(400); // accepted as JSON, then refused for the missing fields
    });

    it('checklist 34: never lets __proto__ or constructor keys pollute', async () => {
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const raw = `{"${key}": {"polluted": true, "isAdmin": true}, "id": "${uniqueId()}", "authority_binding": "auth-dev-001", "jurisdiction": "DE", "policy_baseline": "ecs-baseline-v1"}`;
        const refused = await call('POST', '/v1/tenants', { raw });
        expect(refused.status).toBe(400);
        expect(refused.body).toEqual({ code: 'ECS_BAD_REQUEST', message: `unknown field: ${key}` });
        const patched = await call('PATCH', `/v1/tenants/${tenant}`, { raw: `{"${key}": {"jurisdiction": "FR"}}` });
        expect(patched.status).toBe(400);
      }
      expect(({} as Json).polluted).toBeUndefined();
      expect(({} as Json).isAdmin).toBeUndefined();
      expect((await call('GET', `/v1/tenants/${tenant}`)).body.jurisdiction).toBe('DE');
    });

    it('answers unknown /v1 paths and methods with a 404 error body, after authentication', async () => {
      expect(await call('GET', '/v1/nothing-here')).toMatchObject({ status: 404, body: { code: 'ECS_NOT_FOUND' } });
      expect(await call('PUT', `/v1/tenants/${tenant}`, { body: {} })).toMatchObject({ status: 404, body: { code: 'ECS_NOT_FOUND' } });
      expect((await call('GET', '/v1/nothing-here', { token: null })).status).toBe(401);
      expect((await call('GET', '/v1/workloads/x', { token: null })).status).toBe(401);
    });
  });

  it('serves an OpenAPI 3.1 document without authentication, generated from the route table', async () => {
    const response = await fetch(`${env.url}/v1/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as Json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'mtls', 'oidc']);
    expect(doc.components.responses.ErrorResponse.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(doc.paths['/v1/tenants/{id}'].patch.requestBody.content['application/json'].schema).toMatchObject({
      additionalProperties: false,
    });
    expect(doc.paths['/v1/events'].get.parameters).toEqual(
      expect.arrayContaining([
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      ]),
    );
    expect(doc.paths['/v1/tenants/{id}'].delete.responses['204']).toEqual({ description: expect.any(String) });
    expect(doc.paths['/v1/openapi.json'].get.security).toEqual([]);
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g)!;
    for (const ref of new Set(refs)) expect(doc.components.schemas).toHaveProperty(ref.split('/').pop()!);
  });
});

describe('buckets at /v1/storage/{bucket}', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack();
  });
  afterAll(() => env.stop());

  it('creates a bucket with PUT and reads it with GET, within the caller’s tenant', async () => {
    const tenant = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
    const admin = await env.token('tenant-admin', tenant);
    const name = uniqueId('bkt');
    const created = await fetch(`${env.url}/v1/storage/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jurisdiction: 'DE', default_classification: 'restricted', versioning: true }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      name,
      tenant_id: tenant,
      jurisdiction: 'DE',
      default_classification: 'restricted',
      versioning: true,
    });
    const read = await fetch(`${env.url}/v1/storage/${name}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(read.status).toBe(200);
    const stranger = await env.token('tenant-admin', uniqueId('x'));
    const refused = await fetch(`${env.url}/v1/storage/${name}`, { headers: { authorization: `Bearer ${stranger}` } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.any(String) });
    const duplicate = await fetch(`${env.url}/v1/storage/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jurisdiction: 'DE' }),
    });
    expect(duplicate.status).toBe(409);
  });
});
