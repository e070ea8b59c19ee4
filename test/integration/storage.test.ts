import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Agent, getGlobalDispatcher, request } from 'undici';
import type { Caller } from '../../lib/auth/caller';
import { IDENTITY_HEADER } from '../../lib/auth/identity-token';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { chainEvents } from '../support/chain-events';
import type { ChainEvent } from '../support/chain-events';
import { blobFiles as storedBlobs, governance, sha256, storageClient } from '../support/storage-client';

describe('EOSC object storage through the gateway (ws2)', () => {
  let env: TestStack;
  let tenantId: string;
  let adminToken: string;
  let bucket: string;
  let versionedBucket: string;
  let client: ReturnType<typeof storageClient>;

  const chain = (id: string): Promise<ChainEvent[]> => chainEvents(env, id);
  const createBucket = (owner: string, overrides: Record<string, unknown> = {}) => client.createBucket(owner, overrides);
  const objectUrl = (bucketName: string, key: string, query = '') => client.objectUrl(bucketName, key, query);
  const put = (bucketName: string, key: string, body: Buffer | Readable, headers: Record<string, string>, token?: string) =>
    client.put(bucketName, key, body, headers, token);
  const get = (bucketName: string, key: string, options: { token?: string; method?: 'GET' | 'HEAD' | 'DELETE'; query?: string } = {}) =>
    client.get(bucketName, key, options);
  const blobFiles = () => storedBlobs(env.dataDir);

  beforeAll(async () => {
    env = await startTestStack();
    adminToken = await env.token('tenant-admin', (tenantId = uniqueId('t')));
    client = storageClient(env, adminToken);
    const created = await env.gql(CREATE_TENANT, {
      input: tenantInput(tenantId, { jurisdiction: 'EU', classificationCeiling: 'restricted' }),
    });
    expect(created.errors).toBeUndefined();
    bucket = await createBucket(tenantId);
    versionedBucket = await createBucket(tenantId, { versioning: true });
  });
  afterAll(() => env.stop());

  it('stores an object with its governance metadata and serves it back with the same headers', async () => {
    const body = Buffer.from('hello, sovereign world\n');
    const headers = governance(body);
    const stored = await put(bucket, 'docs/hello.txt', body, headers);
    expect(stored.status).toBe(201);
    expect(stored.json).toMatchObject({
      key: 'docs/hello.txt',
      etag: sha256(body),
      size: body.length,
      evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:/),
    });

    const read = await get(bucket, 'docs/hello.txt');
    expect(read.status).toBe(200);
    expect(read.body.equals(body)).toBe(true);
    expect(read.headers.etag).toBe(`"${sha256(body)}"`);
    expect(read.headers['x-eosc-version-id']).toBe(stored.json.version_id);
    expect(read.headers['content-type']).toBe('text/plain');
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith('x-eosc-')) expect(read.headers[name]).toBe(value);
    }

    const head = await get(bucket, 'docs/hello.txt', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(body.length));
    expect(head.headers['x-eosc-integrity']).toBe(headers['x-eosc-integrity']);

    const events = await chain(tenantId);
    const putEvent = events.find((event) => event.eventType === 'object.put' && event.outcome === 'accepted')!;
    expect(putEvent).toMatchObject({
      evidencePointer: stored.json.evidence_pointer,
      authoritySnapshotId: expect.stringMatching(/^authsnap:/),
      policySnapshotId: expect.any(String),
      details: expect.objectContaining({
        bucket,
        object_key: 'docs/hello.txt',
        version_id: stored.json.version_id,
        object_id: expect.any(String),
        jurisdiction: 'DE',
        retention_ttl: 'P0D',
        classification: 'internal',
        integrity: headers['x-eosc-integrity'],
        eosc_evidence_pointer: 'eosc://evidence/123e4567',
        data_product_id: 'dp-001',
        usage_policy_snapshot_id: 'pol-001',
        consent_token_ref: 'consent-123',
      }),
    });
    const getEvent = events.find((event) => event.eventType === 'object.get')!;
    const receipt = events.find((event) => event.eventType === 'data.usage.receipt')!;
    expect(getEvent).toMatchObject({ outcome: 'accepted', details: expect.objectContaining({ version_id: stored.json.version_id }) });
    expect(receipt).toMatchObject({
      outcome: 'accepted',
      policySnapshotId: expect.any(String),
      details: expect.objectContaining({
        data_product_id: 'dp-001',
        usage_policy_snapshot_id: 'pol-001',
        consent_token_ref: 'consent-123',
        usage_receipt_id: getEvent.details.usage_receipt_id,
      }),
    });
    expect(read.headers['x-eosc-access-evidence-pointer']).toBe(getEvent.evidencePointer);
    expect(read.headers['x-eosc-usage-receipt-pointer']).toBe(receipt.evidencePointer);
  });

  describe('writes without valid governance metadata fail, with a refusal event', () => {
    const body = Buffer.from('x');
    const cases: Array<[string, Record<string, string | undefined>, string]> = [
      ['missing jurisdiction', { 'x-eosc-jurisdiction': undefined }, 'EOSC_MISSING_JURISDICTION'],
      ['invalid jurisdiction', { 'x-eosc-jurisdiction': 'XX' }, 'EOSC_INVALID_JURISDICTION'],
      ['missing retention', { 'x-eosc-retention-ttl': undefined }, 'EOSC_MISSING_RETENTION'],
      ['bad retention', { 'x-eosc-retention-ttl': 'thirty days' }, 'EOSC_INVALID_RETENTION_FORMAT'],
      ['missing integrity', { 'x-eosc-integrity': undefined }, 'EOSC_MISSING_INTEGRITY'],
      ['md5 integrity', { 'x-eosc-integrity': `md5:${'a'.repeat(32)}` }, 'EOSC_INTEGRITY_ALGORITHM_UNSUPPORTED'],
      ['sha1 integrity', { 'x-eosc-integrity': `sha1:${'a'.repeat(40)}` }, 'EOSC_INTEGRITY_ALGORITHM_UNSUPPORTED'],
      ['missing classification', { 'x-eosc-classification': undefined }, 'EOSC_MISSING_CLASSIFICATION'],
      ['unknown classification', { 'x-eosc-classification': 'top-secret' }, 'EOSC_CLASSIFICATION_UNKNOWN'],
      ['missing evidence pointer', { 'x-eosc-evidence-pointer': undefined }, 'EOSC_INVALID_EVIDENCE_POINTER'],
      ['bad evidence pointer', { 'x-eosc-evidence-pointer': 'ftp://x/y' }, 'EOSC_INVALID_EVIDENCE_POINTER'],
      ['missing data product', { 'x-eosc-data-product-id': undefined }, 'EOSC_MISSING_DATA_PRODUCT_ID'],
      ['missing policy snapshot', { 'x-eosc-usage-policy-snapshot-id': undefined }, 'EOSC_MISSING_USAGE_POLICY_SNAPSHOT_ID'],
      ['missing consent ref', { 'x-eosc-consent-token-ref': undefined }, 'EOSC_MISSING_CONSENT_TOKEN_REF'],
    ];
    it.each(cases)('%s → %s', async (_name, overrides, code) => {
      const before = (await chain(tenantId)).length;
      const key = `refused/${uniqueId('k')}`;
      const result = await put(bucket, key, body, governance(body, overrides));
      expect(result.status).toBe(400);
      expect(result.json).toMatchObject({ code, evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:/) });
      const events = await chain(tenantId);
      expect(events).toHaveLength(before + 1);
      expect(events[events.length - 1]).toMatchObject({
        eventType: 'object.put',
        outcome: 'refused',
        refusalSubject: 'object.put',
        evidencePointer: result.json.evidence_pointer,
      });
      expect((await get(bucket, key)).status).toBe(404);
    });
  });

  it('keeps S3 user metadata (x-amz-meta-*) given on a /v1 PUT and answers it on GET and HEAD; a malformed one is 400 and stores nothing', async () => {
    const body = Buffer.from(`user metadata ${uniqueId()}`);
    const stored = await put(bucket, 'meta.txt', body, {
      ...governance(body),
      'x-amz-meta-color': 'blue',
      'x-amz-meta-eosc-not-governance': 'ignored',
    });
    expect(stored.status).toBe(201);
    for (const method of ['GET', 'HEAD'] as const) {
      const read = await get(bucket, 'meta.txt', { method });
      expect(read.headers['x-amz-meta-color']).toBe('blue');
      expect(read.headers).not.toHaveProperty('x-amz-meta-eosc-not-governance');
    }
    const tooLarge = await put(bucket, 'meta-large.txt', body, { ...governance(body), 'x-amz-meta-big': 'v'.repeat(2049) });
    expect([tooLarge.status, tooLarge.json.code]).toEqual([400, 'ECS_BAD_REQUEST']);
    expect(tooLarge.json.message).toContain('2048 bytes');
    expect((await get(bucket, 'meta-large.txt', { method: 'HEAD' })).status).toBe(404);
  });

  it("never takes the S3 endpoint's integrity-from-trailer header from a client of /v1/storage", async () => {
    const body = Buffer.from(`no declared integrity ${uniqueId()}`);
    const { 'x-eosc-integrity': _declared, ...withoutIntegrity } = governance(body);
    for (const claim of ['x-eosc-integrity-from-trailer', 'x-eosc-integrity-from-chunk-signatures']) {
      const result = await put(bucket, 'trailer-claim.bin', body, { ...withoutIntegrity, [claim]: 'sha256' });
      expect([claim, result.status, result.json.code]).toEqual([claim, 400, 'EOSC_MISSING_INTEGRITY']);
    }
    expect((await get(bucket, 'trailer-claim.bin')).status).toBe(404);
  });

  it('an integrity mismatch stores nothing (no row, no blob) and leaves one refused event', async () => {
    const body = Buffer.from(`the real content ${uniqueId()}`);
    const before = (await chain(tenantId)).length;
    const blobsBefore = blobFiles();
    const result = await put(bucket, 'mismatch.bin', body, governance(body, { 'x-eosc-integrity': `sha256:${'0'.repeat(64)}` }));
    expect(result.status).toBe(400);
    expect(result.json.code).toBe('EOSC_INTEGRITY_MISMATCH');
    const events = await chain(tenantId);
    expect(events).toHaveLength(before + 1);
    expect(events[events.length - 1]).toMatchObject({
      eventType: 'object.put',
      outcome: 'refused',
      refusalReasonClass: 'evidence_precondition_failed',
      refusalReasonCode: 'integrity_mismatch',
      details: expect.objectContaining({ computed_integrity: `sha256:${sha256(body)}` }),
    });
    expect(blobFiles()).toEqual(blobsBefore);
    expect(blobFiles()).not.toContain(sha256(body));
    expect(readdirSync(path.join(env.dataDir, 'blobs', 'tmp'))).toEqual([]);
    expect(await env.stack.services.db.prisma.storageObjectVersion.count({ where: { bucket, key: 'mismatch.bin' } })).toBe(0);
  });

  it('refuses a classification above the tenant ceiling and a placement outside the declared jurisdiction, with evidence', async () => {
    const body = Buffer.from('classified');
    const secret = await put(bucket, 'secret.bin', body, governance(body, { 'x-eosc-classification': 'secret' }));
    expect(secret.status).toBe(403);
    expect(secret.json).toMatchObject({ code: 'EOSC_CLASSIFICATION_ABOVE_CEILING', evidence_pointer: expect.any(String) });
    // The bucket is in DE: an object that must stay in FR may not be placed there.
    const blocked = await put(bucket, 'fr-only.bin', body, governance(body, { 'x-eosc-jurisdiction': 'FR' }));
    expect(blocked.status).toBe(403);
    expect(blocked.json).toMatchObject({ code: 'EOSC_JURISDICTION_BLOCKED', evidence_pointer: expect.any(String) });
    // A bucket in EU may hold data allowed anywhere in the EU, but not DE-only data.
    const euBucket = await createBucket(tenantId, { jurisdiction: 'EU' });
    expect((await put(euBucket, 'de-only.bin', body, governance(body))).json.code).toBe('EOSC_JURISDICTION_BLOCKED');
    expect((await put(euBucket, 'eu.bin', body, governance(body, { 'x-eosc-jurisdiction': 'EU' }))).status).toBe(201);
    expect((await put(bucket, 'de-or-fr.bin', body, governance(body, { 'x-eosc-jurisdiction': 'FR,DE' }))).status).toBe(201);
    const events = await chain(tenantId);
    expect(events.filter((event) => event.refusalReasonCode === 'classification_above_ceiling')).toHaveLength(1);
    expect(events.filter((event) => event.refusalReasonClass === 'jurisdiction_denied')).toHaveLength(2);
  });

  it('refuses cross-tenant PUT and GET, and readers may read but not write', async () => {
    const other = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(other) })).errors).toBeUndefined();
    const otherAdmin = await env.token('tenant-admin', other);
    const body = Buffer.from('mine');
    expect((await put(bucket, 'mine.txt', body, governance(body))).status).toBe(201);
    const crossPut = await put(bucket, 'theirs.txt', body, governance(body), otherAdmin);
    expect(crossPut.status).toBe(403);
    expect(crossPut.json).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.any(String) });
    const crossGet = await get(bucket, 'mine.txt', { token: otherAdmin });
    expect(crossGet.status).toBe(403);
    expect(crossGet.body.toString()).not.toContain('mine');
    const reader = await env.token('reader', tenantId);
    expect((await get(bucket, 'mine.txt', { token: reader })).body.toString()).toBe('mine');
    expect((await put(bucket, 'reader.txt', body, governance(body), reader)).status).toBe(403);
    const refusals = (await chain(tenantId)).filter((event) => event.eventType === 'authority.refusal');
    expect(refusals.length).toBeGreaterThanOrEqual(3);
    const anonymous = await request(objectUrl(bucket, 'mine.txt'));
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();
  });

  it('checklist 33: refuses malformed object keys with 400', async () => {
    const body = Buffer.from('k');
    // Sent as raw paths: a URL parser would resolve the dot segments before they leave the client.
    for (const key of ['a/%2e%2e/b', '%2e%2e', 'a/../../../../graphql', './a', 'a%00b', 'a%5Cb', 'a\\b', 'x'.repeat(1025), '%E0%A4%A']) {
      const response = await getGlobalDispatcher().request({
        origin: env.url,
        path: `/v1/storage/${bucket}/objects/${key}`,
        method: 'PUT',
        headers: { authorization: `Bearer ${adminToken}`, ...governance(body) },
        body,
      });
      const json = (await response.body.json()) as { code: string };
      expect([key, response.statusCode, json.code]).toEqual([key, 400, 'EOSC_INVALID_OBJECT_KEY']);
    }
  });

  it('keeps every PUT to a versioned bucket as a version, readable with ?version_id=', async () => {
    const first = Buffer.from('version one');
    const second = Buffer.from('version two');
    const v1 = await put(versionedBucket, 'report.csv', first, governance(first));
    const v2 = await put(versionedBucket, 'report.csv', second, governance(second, { 'x-eosc-classification': 'restricted' }));
    expect(v1.status).toBe(201);
    expect(v2.status).toBe(201);
    expect(v1.json.version_id).not.toBe(v2.json.version_id);
    expect((await get(versionedBucket, 'report.csv')).body.toString()).toBe('version two');
    const old = await get(versionedBucket, 'report.csv', { query: `?version_id=${String(v1.json.version_id)}` });
    expect(old.body.toString()).toBe('version one');
    expect(old.headers['x-eosc-classification']).toBe('internal');
    // An unversioned bucket keeps one version a key: another id names nothing.
    const unknown = await get(bucket, 'docs/hello.txt', { query: '?version_id=abc' });
    expect([unknown.status, unknown.json.code]).toEqual([404, 'ECS_NOT_FOUND']);
  });

  it('refuses DELETE while retention is in force or a legal hold is on, with evidence; otherwise a delete marker', async () => {
    const body = Buffer.from('retained');
    expect((await put(bucket, 'retained.txt', body, governance(body, { 'x-eosc-retention-ttl': 'P30D' }))).status).toBe(201);
    const refused = await get(bucket, 'retained.txt', { method: 'DELETE' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'EOSC_OBJECT_LOCKED', evidence_pointer: expect.any(String) });
    // An overwrite of a retained object in an unversioned bucket is refused too.
    const overwrite = await put(bucket, 'retained.txt', body, governance(body));
    expect(overwrite.json.code).toBe('EOSC_OBJECT_LOCKED');

    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect((await put(bucket, 'until.txt', body, governance(body, { 'x-eosc-retention-ttl': future }))).status).toBe(201);
    expect((await get(bucket, 'until.txt', { method: 'DELETE' })).status).toBe(403);

    expect((await put(bucket, 'held.txt', body, governance(body, { 'x-eosc-legal-hold': 'ON' }))).status).toBe(201);
    expect((await get(bucket, 'held.txt', { method: 'DELETE' })).status).toBe(403);
    const events = await chain(tenantId);
    expect(
      events.filter((event) => event.eventType === 'object.delete' && event.outcome === 'refused').map((event) => event.refusalReasonCode),
    ).toEqual(['retention_in_force', 'retention_in_force', 'legal_hold_on']);

    expect((await put(bucket, 'free.txt', body, governance(body))).status).toBe(201);
    const deleted = await get(bucket, 'free.txt', { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await get(bucket, 'free.txt')).status).toBe(404);
    expect((await get(bucket, 'free.txt', { method: 'DELETE' })).status).toBe(404);
    const after = await chain(tenantId);
    expect(after[after.length - 1]).toMatchObject({
      eventType: 'object.delete',
      outcome: 'accepted',
      details: expect.objectContaining({ object_key: 'free.txt' }),
    });
  });

  it('lists objects by prefix with a cursor, over REST and GraphQL', async () => {
    const listBucket = await createBucket(tenantId);
    for (const key of ['logs/a', 'logs/b', 'logs/c', 'other/d']) {
      const body = Buffer.from(key);
      expect((await put(listBucket, key, body, governance(body))).status).toBe(201);
    }
    expect((await get(listBucket, 'logs/b', { method: 'DELETE' })).status).toBe(204);
    const page = async (query: string) => {
      const response = await request(`${env.url}/v1/storage/${listBucket}/objects${query}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      return {
        status: response.statusCode,
        json: (await response.body.json()) as { items: Array<{ key: string }>; next_cursor: string | null; code?: string },
      };
    };
    const first = await page('?prefix=logs/&limit=1');
    expect(first.json.items.map((item) => item.key)).toEqual(['logs/a']);
    expect(first.json.next_cursor).toEqual(expect.any(String));
    const second = await page(`?prefix=logs/&limit=1&cursor=${encodeURIComponent(first.json.next_cursor!)}`);
    expect(second.json.items.map((item) => item.key)).toEqual(['logs/c']);
    expect(second.json.next_cursor).toBeNull();
    expect((await page('?limit=0')).json.code).toBe('ECS_INVALID_PAGE_SIZE');
    expect((await page(`?prefix=other/&cursor=${encodeURIComponent(first.json.next_cursor!)}`)).json.code).toBe('ECS_INVALID_CURSOR');

    type Objects = {
      bucket: {
        objects: { items: Array<{ key: string; size: number; sha256: string; classification: string }>; nextCursor: string | null };
      };
    };
    const objects = `query($name: ID!, $first: Int, $after: String) {
      bucket(name: $name) { objects(prefix: "logs/", first: $first, after: $after) { items { key size sha256 classification } nextCursor } } }`;
    const gql = await env.gqlAs<Objects>(adminToken, objects, { name: listBucket, first: 10 });
    expect(gql.errors).toBeUndefined();
    expect(gql.data!.bucket.objects.items.map((item) => item.key)).toEqual(['logs/a', 'logs/c']);
    expect(gql.data!.bucket.objects.items[0]).toMatchObject({ size: 6, sha256: sha256(Buffer.from('logs/a')), classification: 'internal' });
    expect(gql.data!.bucket.objects.nextCursor).toBeNull();
    // The same pages over GraphQL, one object each: the cursor continues after logs/a and ends the list.
    const gqlFirst = await env.gqlAs<Objects>(adminToken, objects, { name: listBucket, first: 1 });
    expect(gqlFirst.errors).toBeUndefined();
    expect(gqlFirst.data!.bucket.objects.items.map((item) => item.key)).toEqual(['logs/a']);
    expect(gqlFirst.data!.bucket.objects.nextCursor).toEqual(expect.any(String));
    const gqlSecond = await env.gqlAs<Objects>(adminToken, objects, {
      name: listBucket,
      first: 1,
      after: gqlFirst.data!.bucket.objects.nextCursor,
    });
    expect(gqlSecond.errors).toBeUndefined();
    expect(gqlSecond.data!.bucket.objects.items.map((item) => item.key)).toEqual(['logs/c']);
    expect(gqlSecond.data!.bucket.objects.nextCursor).toBeNull();
  });

  it('streams a 20 MB upload and download', async () => {
    const chunk = randomBytes(1024 * 1024);
    const chunks = 20;
    const hash = createHash('sha256');
    for (let i = 0; i < chunks; i += 1) hash.update(chunk);
    const digest = hash.digest('hex');
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < chunks; i += 1) yield chunk;
      })(),
    );
    const stored = await put(bucket, 'big.bin', source, {
      ...governance(Buffer.alloc(0), { 'x-eosc-integrity': `sha256:${digest}`, 'content-type': 'application/octet-stream' }),
      'content-length': String(chunk.length * chunks),
    });
    expect(stored.status).toBe(201);
    expect(stored.json.size).toBe(chunk.length * chunks);
    const response = await request(objectUrl(bucket, 'big.bin'), { headers: { authorization: `Bearer ${adminToken}` } });
    expect(response.statusCode).toBe(200);
    const readHash = createHash('sha256');
    let size = 0;
    for await (const part of response.body) {
      readHash.update(part as Buffer);
      size += (part as Buffer).length;
    }
    expect(size).toBe(chunk.length * chunks);
    expect(readHash.digest('hex')).toBe(digest);
  });

  it('lists open multipart uploads (GET .../objects?uploads) with marker paging, and answers error bodies for bad requests', async () => {
    const listBucket = await createBucket(tenantId);
    const body = Buffer.from('upload');
    const start = async (key: string) =>
      (await client.call('POST', objectUrl(listBucket, key, '?uploads'), { headers: governance(body) })).json.upload_id as string;
    const first = await start('up/a.bin');
    const second = await start('up/b.bin');
    const done = await start('up/done.bin');
    expect((await client.call('DELETE', objectUrl(listBucket, 'up/done.bin', `?upload_id=${done}`))).status).toBe(204);
    const list = (query: string, token?: string) =>
      client.call('GET', `${env.url}/v1/storage/${listBucket}/objects?uploads${query}`, { token });

    const all = await list('&prefix=up/');
    expect(all.status).toBe(200);
    expect(all.json).toMatchObject({
      bucket: listBucket,
      prefix: 'up/',
      max_uploads: 1000,
      is_truncated: false,
      next_key_marker: null,
      uploads: [
        { key: 'up/a.bin', upload_id: first, initiated: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
        { key: 'up/b.bin', upload_id: second, initiated: expect.any(String) },
      ],
    });
    const page = await list('&max_uploads=1');
    expect(page.json).toMatchObject({
      uploads: [{ upload_id: first }],
      is_truncated: true,
      next_key_marker: 'up/a.bin',
      next_upload_id_marker: first,
    });
    const next = await list(`&max_uploads=1&key_marker=up/a.bin&upload_id_marker=${first}`);
    expect(next.json).toMatchObject({ uploads: [{ upload_id: second }], is_truncated: false });

    for (const [query, status, code] of [
      ['&max_uploads=0', 400, 'ECS_INVALID_PAGE_SIZE'],
      ['&max_uploads=1001', 400, 'ECS_INVALID_PAGE_SIZE'],
      [`&upload_id_marker=${first}`, 400, 'ECS_BAD_REQUEST'],
      [`&key_marker=up/b.bin&upload_id_marker=${first}`, 400, 'ECS_BAD_REQUEST'],
      ['&versions', 400, 'ECS_BAD_REQUEST'],
    ] as const) {
      const refused = await list(query);
      expect([query, refused.status, refused.json]).toEqual([query, status, { code, message: expect.any(String) }]);
    }
    const missing = await client.call('GET', `${env.url}/v1/storage/${uniqueId('none')}/objects?uploads`);
    expect([missing.status, missing.json.code]).toEqual([404, 'ECS_NOT_FOUND']);
    const outsider = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(outsider) })).errors).toBeUndefined();
    const cross = await list('', await env.token('tenant-admin', outsider));
    expect(cross.status).toBe(403);
    expect(cross.json).toMatchObject({ code: 'ECS_FORBIDDEN', message: expect.any(String), evidence_pointer: expect.any(String) });
  });

  it("deletes an empty bucket on the data plane's DELETE /data/storage/{bucket}, with error bodies for a non-empty and a missing one", async () => {
    const tls = env.stack.services.tls;
    const agent = new Agent({ connect: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } });
    const admin: Caller = { subject: `tenant-admin@${tenantId}`, roles: ['tenant-admin'], tenantId, authMethod: 'dev-issuer' };
    const deleteOnPlane = async (name: string) => {
      const response = await request(new URL(`/data/storage/${name}`, env.stack.subgraphs.data.url), {
        method: 'DELETE',
        headers: { [IDENTITY_HEADER]: await env.stack.services.identityTokens.sign(admin, 'data') },
        dispatcher: agent,
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };
    try {
      const full = await createBucket(tenantId);
      const body = Buffer.from('full');
      expect((await put(full, 'full.txt', body, governance(body))).status).toBe(201);
      const notEmpty = await deleteOnPlane(full);
      expect(notEmpty.status).toBe(409);
      expect(notEmpty.json).toEqual({
        code: 'ECS_CONFLICT',
        message: `bucket ${full} is not empty: it holds 1 object version(s) (delete markers included) and 0 open multipart upload(s)`,
        evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:/),
      });
      const refused = (await chain(tenantId)).find((event) => event.evidencePointer === notEmpty.json.evidence_pointer);
      expect(refused).toMatchObject({ eventType: 'storage.bucket.delete', outcome: 'refused', refusalReasonClass: 'policy_denied' });

      const missing = await deleteOnPlane(uniqueId('none'));
      expect([missing.status, missing.json.code, typeof missing.json.message]).toEqual([404, 'ECS_NOT_FOUND', 'string']);

      const empty = await createBucket(tenantId);
      const deleted = await deleteOnPlane(empty);
      expect(deleted.status).toBe(204);
      const accepted = (await chain(tenantId)).find((event) => event.evidencePointer === deleted.headers['x-eosc-evidence-pointer']);
      expect(accepted).toMatchObject({
        eventType: 'storage.bucket.delete',
        outcome: 'accepted',
        details: expect.objectContaining({ bucket: empty }),
      });
      expect((await deleteOnPlane(empty)).status).toBe(404);
    } finally {
      await agent.close();
    }
  });

  it('deletes an empty bucket with DELETE /v1/storage/{bucket} and the deleteBucket mutation; refuses a non-empty one with 409 and evidence', async () => {
    const rest = (method: string, name: string) =>
      fetch(`${env.url}/v1/storage/${name}`, { method, headers: { authorization: `Bearer ${adminToken}` } });
    const full = await createBucket(tenantId);
    const body = Buffer.from('still here');
    expect((await put(full, 'kept.txt', body, governance(body))).status).toBe(201);
    const refused = await rest('DELETE', full);
    expect(refused.status).toBe(409);
    const refusal = (await refused.json()) as Record<string, unknown>;
    expect(refusal).toMatchObject({
      code: 'ECS_CONFLICT',
      message: expect.stringContaining('not empty'),
      evidence_pointer: expect.any(String),
    });
    expect((await chain(tenantId)).find((event) => event.evidencePointer === refusal.evidence_pointer)).toMatchObject({
      eventType: 'storage.bucket.delete',
      outcome: 'refused',
    });
    expect((await rest('GET', full)).status).toBe(200);

    const empty = await createBucket(tenantId);
    const deleted = await rest('DELETE', empty);
    expect(deleted.status).toBe(204);
    expect((await rest('GET', empty)).status).toBe(404);
    expect((await rest('DELETE', empty)).status).toBe(404);

    const viaGraphQL = await createBucket(tenantId);
    const result = await env.gqlAs<{ deleteBucket: { name: string; evidencePointer: string } }>(
      adminToken,
      'mutation($n: ID!) { deleteBucket(name: $n) { name evidencePointer } }',
      { n: viaGraphQL },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.deleteBucket.name).toBe(viaGraphQL);
    expect((await chain(tenantId)).find((event) => event.evidencePointer === result.data!.deleteBucket.evidencePointer)).toMatchObject({
      eventType: 'storage.bucket.delete',
      outcome: 'accepted',
      details: expect.objectContaining({ bucket: viaGraphQL }),
    });
  });
});
