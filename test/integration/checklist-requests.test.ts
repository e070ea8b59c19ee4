import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { chainEvents } from '../support/chain-events';
import { blobFiles, governance, storageClient } from '../support/storage-client';

/** Lines of the security checklist about request input, on the running stack. */
describe('security checklist: request input', () => {
  let env: TestStack;
  let tenantId: string;
  let adminToken: string;
  let client: ReturnType<typeof storageClient>;
  let bucket: string;

  async function rest(method: string, pathname: string, options: { raw?: string; token?: string; headers?: Record<string, string> } = {}) {
    const response = await fetch(`${env.url}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token ?? env.adminToken}`,
        ...(options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: options.raw,
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  beforeAll(async () => {
    env = await startTestStack();
    tenantId = uniqueId('t');
    adminToken = await env.token('tenant-admin', tenantId);
    client = storageClient(env, adminToken);
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    bucket = await client.createBucket(tenantId);
  });
  afterAll(() => env.stop());

  it('checklist 16: page sizes of 1,000,000, -1 and 0 are refused with ECS_INVALID_PAGE_SIZE, over GraphQL and REST', async () => {
    for (const first of [1_000_000, -1, 0, 1001]) {
      const result = await env.gql('query($first: Int) { events(first: $first) { items { id } } }', { first });
      expect([first, result.errors?.[0]?.extensions?.code]).toEqual([first, 'ECS_INVALID_PAGE_SIZE']);
    }
    for (const limit of ['1000000', '-1', '0', 'abc']) {
      const response = await rest('GET', `/v1/events?tenant=${tenantId}&limit=${limit}`);
      expect([limit, response.status, response.body.code]).toEqual([limit, 400, 'ECS_INVALID_PAGE_SIZE']);
    }
    const tenantEvents = await env.gql('query($id: ID!, $last: Int) { tenant(id: $id) { events(last: $last) { sequence } } }', {
      id: tenantId,
      last: 1_000_000,
    });
    expect(tenantEvents.errors?.[0]?.extensions?.code).toBe('ECS_INVALID_PAGE_SIZE');
    // Written into the document, the same size is refused the same way (the cost estimate
    // counts a page as at most 1,000 objects, the largest the planes serve).
    const literal = await env.gql('query($id: ID!) { tenant(id: $id) { events(last: 1000000) { sequence } } }', { id: tenantId });
    expect(literal.errors?.[0]?.extensions?.code).toBe('ECS_INVALID_PAGE_SIZE');
    expect((await env.gql('query { events(first: 1000) { items { id } } }')).errors).toBeUndefined();
  });

  it('checklist 29: mass assignment of sequence, hash, timestamps, role or another tenant is refused', async () => {
    const base = { id: uniqueId('t'), authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' };
    for (const [field, value] of [
      ['sequence', 7],
      ['event_hash', 'sha256:00'],
      ['created_at', '2020-01-01T00:00:00Z'],
      ['role', 'platform-admin'],
      ['tenantId', 'other'],
    ] as const) {
      const refused = await rest('POST', '/v1/tenants', { raw: JSON.stringify({ ...base, [field]: value }) });
      expect([field, refused.status, refused.body]).toEqual([field, 400, { code: 'ECS_BAD_REQUEST', message: `unknown field: ${field}` }]);
    }
    // `status` is the skeleton's, and the server's: accepted only saying what the server sets.
    const suspended = await rest('POST', '/v1/tenants', { raw: JSON.stringify({ ...base, status: 'suspended' }) });
    expect([suspended.status, suspended.body.code, suspended.body.message]).toEqual([
      400,
      'ECS_BAD_REQUEST',
      expect.stringMatching(/^field status: a new tenant is active/),
    ]);
    expect((await rest('GET', `/v1/tenants/${base.id}`)).status).toBe(404);
    // A tenant administrator cannot place a bucket in another tenant by naming it.
    const other = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(other) })).errors).toBeUndefined();
    const foreign = await rest('PUT', `/v1/storage/${uniqueId('b')}`, {
      raw: JSON.stringify({ tenant_id: other, jurisdiction: 'DE' }),
      token: adminToken,
    });
    expect([foreign.status, foreign.body.code]).toEqual([403, 'ECS_FORBIDDEN']);
  });

  it('checklist 32: evidence pointers to metadata, private, loopback or non-https addresses are refused (the service never fetches them)', async () => {
    const body = Buffer.from('ssrf');
    for (const pointer of [
      'http://169.254.169.254/latest/meta-data/',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00:ec2::254]/',
      'https://10.0.0.5/evidence',
      'https://192.168.1.1/x',
      'https://127.0.0.1/x',
      'https://0x7f.0.0.1/x',
      'https://[::1]/x',
      'https://[::ffff:169.254.169.254]/x',
      'https://localhost/x',
      'https://metadata.google.internal/computeMetadata/v1/',
      'https://user:pass@evidence.example.eu/x',
      'file:///etc/passwd',
      'gopher://evidence.example.eu/',
    ]) {
      const refused = await client.put(bucket, `ssrf/${uniqueId()}`, body, governance(body, { 'x-eosc-evidence-pointer': pointer }));
      expect([pointer, refused.status, refused.json.code]).toEqual([pointer, 400, 'EOSC_INVALID_EVIDENCE_POINTER']);
    }
    const accepted = await client.put(
      bucket,
      'ssrf/ok',
      body,
      governance(body, { 'x-eosc-evidence-pointer': 'https://evidence.example.eu/records/42' }),
    );
    expect(accepted.status).toBe(201);
  });

  it('checklist 33: look-alike and traversal keys stay object names: bytes live only under their SHA-256', async () => {
    const body = Buffer.from('look-alike');
    // Fullwidth full stops, one-dot leaders, a fraction slash: names, not path segments.
    for (const key of ['\uff0e\uff0e/\uff0e\uff0e/etc/passwd', 'a/\u2024\u2024/b', '..\u2215..\u2215etc', 'caf\u00e9', 'cafe\u0301']) {
      const stored = await client.put(bucket, encodeURIComponent(key).replace(/%2F/g, '/'), body, governance(body));
      expect([key, stored.status, stored.json.key]).toEqual([key, 201, key]);
    }
    // NFC and NFD spellings are two different keys (no normalisation, so no collision).
    const listing = await fetch(`${env.url}/v1/storage/${bucket}/objects?prefix=caf`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(((await listing.json()) as { items: unknown[] }).items).toHaveLength(2);
    for (const name of blobFiles(env.dataDir)) expect(name).toMatch(/^[0-9a-f]{64}$/);
    // Raw traversal paths (`%2e%2e/`, NUL, backslash) are refused: see storage.test.ts, checklist 33.
  });

  it('checklist 35: duplicate JSON keys and 10,000 levels of nesting are refused with 400, and the service keeps answering', async () => {
    const duplicate = await rest('POST', '/v1/tenants', {
      raw: '{"id":"dup-a","id":"dup-b","authority_binding":"auth-dev-001","jurisdiction":"DE","policy_baseline":"ecs-baseline-v1"}',
    });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body).toMatchObject({ code: 'ECS_BAD_REQUEST', message: 'request body: duplicate key "id"' });
    expect((await rest('GET', '/v1/tenants/dup-a')).status).toBe(404);
    expect((await rest('GET', '/v1/tenants/dup-b')).status).toBe(404);
    const nested = `{"id":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const deep = await rest('POST', '/v1/tenants', { raw: nested });
    expect(deep.status).toBe(400);
    expect(String(deep.body.message)).toMatch(/nested deeper than 64 levels/);
    const wrongType = await rest('POST', '/v1/tenants', { raw: '{}', headers: { 'content-type': 'text/csv' } });
    expect([wrongType.status, wrongType.body.code]).toEqual([415, 'ECS_UNSUPPORTED_MEDIA_TYPE']);
    expect((await rest('GET', `/v1/tenants/${tenantId}`)).status).toBe(200);
  });

  it('checklist 62: an unwritable blob store refuses the PUT with evidence, writes no row and shows no object; it works again once fixed', async () => {
    const tmp = path.join(env.dataDir, 'blobs', 'tmp');
    const body = Buffer.from(`not stored ${uniqueId()}`);
    rmSync(tmp, { recursive: true, force: true });
    writeFileSync(tmp, 'a file where the directory should be');
    try {
      const refused = await client.put(bucket, 'disk/full.bin', body, governance(body));
      expect(refused.status).toBe(503);
      expect(refused.json).toMatchObject({ code: 'ECS_DEPENDENCY_UNAVAILABLE', evidence_pointer: expect.any(String) });
      const events = await chainEvents(env, tenantId);
      expect(events.at(-1)).toMatchObject({
        eventType: 'object.put',
        outcome: 'refused',
        refusalReasonClass: 'dependency_unavailable_fail_closed',
        refusalReasonCode: 'blob_store_unavailable',
      });
      expect((await client.get(bucket, 'disk/full.bin', { method: 'HEAD' })).status).toBe(404);
      expect(await env.stack.services.db.prisma.storageObjectVersion.count({ where: { bucket, key: 'disk/full.bin' } })).toBe(0);
    } finally {
      rmSync(tmp, { force: true });
      mkdirSync(tmp);
    }
    expect((await client.put(bucket, 'disk/full.bin', body, governance(body))).status).toBe(201);
  });
});
