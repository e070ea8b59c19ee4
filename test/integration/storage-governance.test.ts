import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { chainEvents } from '../support/chain-events';
import type { ChainEvent } from '../support/chain-events';
import { blobFiles, blobPath, governance, sha256, storageClient, temporaryFiles } from '../support/storage-client';
import { sweepOrphanBlobs } from '../../subgraphs/data/storage/blob-sweep';
import { FsBlobStore } from '../../lib/blob-store';

/**
 * ws2 "Immutability and retention", "Jurisdiction enforcement" (copy), "Integrity" (read
 * verify), the S3 subset's multipart upload and versions, and the blob store's clean-up,
 * over HTTP against a running stack.
 */
const MAX_OBJECT_BYTES = 12 * 1024 * 1024;

describe('EOSC storage governance operations (ws2)', () => {
  let env: TestStack;
  let tenantId: string;
  let adminToken: string;
  let client: ReturnType<typeof storageClient>;
  let bucket: string;

  const chain = (id = tenantId): Promise<ChainEvent[]> => chainEvents(env, id);
  const last = async (id = tenantId): Promise<ChainEvent> => (await chain(id)).at(-1)!;

  async function stored(bucketName: string, key: string, content: string, overrides: Record<string, string | undefined> = {}) {
    const body = Buffer.from(content);
    const result = await client.put(bucketName, key, body, governance(body, overrides));
    expect(result.status).toBe(201);
    return result.json as { version_id: string; etag: string; evidence_pointer: string };
  }

  beforeAll(async () => {
    env = await startTestStack({ env: { MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES) } });
    tenantId = uniqueId('t');
    adminToken = await env.token('tenant-admin', tenantId);
    client = storageClient(env, adminToken);
    expect(
      (await env.gql(CREATE_TENANT, { input: tenantInput(tenantId, { jurisdiction: 'EU', classificationCeiling: 'restricted' }) })).errors,
    ).toBeUndefined();
    bucket = await client.createBucket(tenantId);
  });
  afterAll(() => env.stop());

  describe('legal hold', () => {
    it('is placed and released as its own evidenced operation; delete is refused while it is on', async () => {
      await stored(bucket, 'hold/a.txt', 'keep me');
      const on = await client.control('PUT', bucket, 'hold/a.txt', '?legal_hold', { status: 'ON', reason: 'case 2026-17' });
      expect(on.status).toBe(200);
      expect(on.json).toMatchObject({ legal_hold: true, evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:/) });
      expect(await last()).toMatchObject({
        eventType: 'object.legal_hold',
        outcome: 'accepted',
        evidencePointer: on.json.evidence_pointer,
        authoritySnapshotId: expect.stringMatching(/^authsnap:/),
        policySnapshotId: expect.any(String),
        details: expect.objectContaining({
          action: 'object.legal_hold.on',
          object_key: 'hold/a.txt',
          legal_hold: true,
          previous_legal_hold: false,
          reason: 'case 2026-17',
        }),
      });
      expect((await client.get(bucket, 'hold/a.txt', { method: 'HEAD' })).headers['x-eosc-legal-hold']).toBe('ON');

      const refused = await client.get(bucket, 'hold/a.txt', { method: 'DELETE' });
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({ code: 'EOSC_OBJECT_LOCKED', evidence_pointer: expect.any(String) });
      expect(await last()).toMatchObject({ eventType: 'object.delete', outcome: 'refused', refusalReasonCode: 'legal_hold_on' });

      const off = await client.control('PUT', bucket, 'hold/a.txt', '?legal_hold', { status: 'OFF' });
      expect(off.json).toMatchObject({ legal_hold: false });
      expect(await last()).toMatchObject({
        eventType: 'object.legal_hold',
        details: expect.objectContaining({ action: 'object.legal_hold.off', previous_legal_hold: true }),
      });
      expect((await client.get(bucket, 'hold/a.txt', { method: 'DELETE' })).status).toBe(204);
    });

    it('is refused to a reader (with evidence), for an unknown object (404), and for a malformed body (400)', async () => {
      await stored(bucket, 'hold/b.txt', 'b');
      const reader = await env.token('reader', tenantId);
      const byReader = await client.control('PUT', bucket, 'hold/b.txt', '?legal_hold', { status: 'ON' }, reader);
      expect(byReader.status).toBe(403);
      expect(byReader.json).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.any(String) });
      expect((await client.control('PUT', bucket, 'hold/missing.txt', '?legal_hold', { status: 'ON' })).status).toBe(404);
      for (const body of [{ status: 'MAYBE' }, { status: 'ON', extra: 1 }, {}]) {
        const bad = await client.control('PUT', bucket, 'hold/b.txt', '?legal_hold', body);
        expect([bad.status, bad.json.code]).toEqual([400, 'ECS_VALIDATION_FAILED']);
      }
      const notJson = await client.call('PUT', client.objectUrl(bucket, 'hold/b.txt', '?legal_hold'), {
        body: '{"status":',
        headers: { 'content-type': 'application/json' },
      });
      expect([notJson.status, notJson.json.code]).toEqual([400, 'ECS_BAD_REQUEST']);
      const huge = await client.call('PUT', client.objectUrl(bucket, 'hold/b.txt', '?legal_hold'), {
        body: JSON.stringify({ status: 'ON', reason: 'x'.repeat(70_000) }),
      });
      expect([huge.status, huge.json.code]).toEqual([413, 'ECS_PAYLOAD_TOO_LARGE']);
      expect((await client.get(bucket, 'hold/b.txt', { method: 'HEAD' })).headers['x-eosc-legal-hold']).toBe('OFF');
    });
  });

  describe('retention', () => {
    it('is extended with evidence of the old and new values, and never shortened in compliance mode', async () => {
      await stored(bucket, 'ret/a.txt', 'retained', { 'x-eosc-retention-ttl': 'P1D' });
      const before = (await client.get(bucket, 'ret/a.txt', { method: 'HEAD' })).headers['x-eosc-retention-until'] as string;
      const extended = await client.control('PUT', bucket, 'ret/a.txt', '?retention', { retention_ttl: 'P30D' });
      expect(extended.status).toBe(200);
      expect(Date.parse(extended.json.retention_until as string)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
      expect(extended.json.lock_mode).toBe('compliance');
      expect(await last()).toMatchObject({
        eventType: 'object.retention.change',
        outcome: 'accepted',
        evidencePointer: extended.json.evidence_pointer,
        policySnapshotId: expect.any(String),
        details: expect.objectContaining({
          retention_ttl: 'P30D',
          previous_retention_ttl: 'P1D',
          previous_retention_until: before,
          shortened: false,
        }),
      });

      const shorter = await client.control('PUT', bucket, 'ret/a.txt', '?retention', { retention_ttl: 'P2D', bypass_governance: true });
      expect(shorter.status).toBe(403);
      expect(shorter.json).toMatchObject({ code: 'EOSC_OBJECT_LOCKED', evidence_pointer: expect.any(String) });
      expect(await last()).toMatchObject({
        eventType: 'object.retention.change',
        outcome: 'refused',
        refusalReasonCode: 'retention_shortening_refused',
        details: expect.objectContaining({ requested_retention_ttl: 'P2D', retention_ttl: 'P30D' }),
      });
      expect((await client.get(bucket, 'ret/a.txt', { method: 'HEAD' })).headers['x-eosc-retention-ttl']).toBe('P30D');

      const badFormat = await client.control('PUT', bucket, 'ret/a.txt', '?retention', { retention_ttl: 'thirty days' });
      expect([badFormat.status, badFormat.json.code]).toEqual([400, 'EOSC_INVALID_RETENTION_FORMAT']);
    });

    it('may be shortened in a governance-mode bucket only with bypass_governance, evidenced as shortened', async () => {
      const governed = await client.createBucket(tenantId, { lockMode: 'governance' });
      await stored(governed, 'g.txt', 'governed', { 'x-eosc-retention-ttl': 'P30D' });
      expect((await client.get(governed, 'g.txt', { method: 'HEAD' })).headers['x-eosc-lock-mode']).toBe('governance');
      expect((await client.control('PUT', governed, 'g.txt', '?retention', { retention_ttl: 'P1D' })).status).toBe(403);
      const reader = await env.token('reader', tenantId);
      expect(
        (await client.control('PUT', governed, 'g.txt', '?retention', { retention_ttl: 'P0D', bypass_governance: true }, reader)).status,
      ).toBe(403);
      const bypass = await client.control('PUT', governed, 'g.txt', '?retention', { retention_ttl: 'P0D', bypass_governance: true });
      expect(bypass.status).toBe(200);
      expect(await last()).toMatchObject({
        eventType: 'object.retention.change',
        outcome: 'accepted',
        details: expect.objectContaining({ shortened: true, previous_retention_ttl: 'P30D' }),
      });
      expect((await client.get(governed, 'g.txt', { method: 'DELETE' })).status).toBe(204);
    });

    it("applies the bucket's default retention when the object declares a shorter one", async () => {
      const minimum = await client.createBucket(tenantId, { defaultRetention: 'P7D' });
      const result = await stored(minimum, 'short.txt', 'short', { 'x-eosc-retention-ttl': 'P0D' });
      expect(result).toMatchObject({ version_id: expect.any(String) });
      const head = await client.get(minimum, 'short.txt', { method: 'HEAD' });
      expect(head.headers['x-eosc-retention-ttl']).toBe('P0D');
      expect(Date.parse(head.headers['x-eosc-retention-until'] as string)).toBeGreaterThan(Date.now() + 6 * 86_400_000);
      expect((await client.get(minimum, 'short.txt', { method: 'DELETE' })).json.code).toBe('EOSC_OBJECT_LOCKED');
      const invalid = await env.gql(`mutation($input: CreateBucketInput!) { createBucket(input: $input) { name } }`, {
        input: { name: uniqueId('b'), tenantId, jurisdiction: 'DE', defaultRetention: 'a week' },
      });
      expect(invalid.errors?.[0]?.extensions?.code).toBe('ECS_VALIDATION_FAILED');
    });
  });

  describe('copy', () => {
    it('keeps every governance value of the source, refers to the same bytes, and is evidenced with its source', async () => {
      const body = Buffer.from('copied content');
      const headers = governance(body, {
        'x-eosc-classification': 'restricted',
        'x-eosc-jurisdiction': 'DE,FR',
        'x-eosc-retention-ttl': 'P3D',
      });
      const source = await client.put(bucket, 'copy/src.txt', body, headers);
      expect(source.status).toBe(201);
      const target = await client.createBucket(tenantId, { jurisdiction: 'FR' });
      const blobsBefore = blobFiles(env.dataDir).length;
      const copy = await client.call('PUT', client.objectUrl(target, 'dst.txt'), {
        headers: { 'x-eosc-copy-source': `${bucket}/copy/src.txt` },
      });
      expect(copy.status).toBe(201);
      expect(copy.json).toMatchObject({ etag: sha256(body), origin: 'copy' });
      expect(blobFiles(env.dataDir)).toHaveLength(blobsBefore);

      const original = await client.get(bucket, 'copy/src.txt', { method: 'HEAD' });
      const copied = await client.get(target, 'dst.txt');
      expect(copied.body.equals(body)).toBe(true);
      for (const name of Object.keys(headers).filter((header) => header.startsWith('x-eosc-'))) {
        expect([name, copied.headers[name]]).toEqual([name, original.headers[name]]);
      }
      expect(copied.headers['x-eosc-retention-until']).toBe(original.headers['x-eosc-retention-until']);
      const event = (await chain()).filter((e) => e.eventType === 'object.copy').at(-1)!;
      expect(event).toMatchObject({
        outcome: 'accepted',
        evidencePointer: copy.json.evidence_pointer,
        details: expect.objectContaining({
          bucket: target,
          object_key: 'dst.txt',
          source_bucket: bucket,
          source_key: 'copy/src.txt',
          source_version_id: source.json.version_id,
          jurisdiction: 'DE,FR',
          classification: 'restricted',
          integrity: headers['x-eosc-integrity'],
          origin: 'copy',
        }),
      });
    });

    it('to a bucket outside the declared jurisdiction is refused with evidence and writes nothing', async () => {
      const body = Buffer.from('german data');
      await client.put(bucket, 'copy/de.txt', body, governance(body, { 'x-eosc-jurisdiction': 'DE' }));
      const french = await client.createBucket(tenantId, { jurisdiction: 'FR' });
      const refused = await client.call('PUT', client.objectUrl(french, 'de.txt'), {
        headers: { 'x-eosc-copy-source': `${bucket}/copy/de.txt` },
      });
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({ code: 'EOSC_JURISDICTION_BLOCKED', evidence_pointer: expect.any(String) });
      expect(await last()).toMatchObject({
        eventType: 'object.copy',
        outcome: 'refused',
        refusalReasonClass: 'jurisdiction_denied',
        refusalReasonCode: 'copy_outside_jurisdiction',
        details: expect.objectContaining({
          source_bucket: bucket,
          source_key: 'copy/de.txt',
          jurisdiction: 'DE',
          bucket_jurisdiction: 'FR',
        }),
      });
      expect((await client.get(french, 'de.txt', { method: 'HEAD' })).status).toBe(404);
    });

    it('refuses to alter governance metadata, to copy across tenants, and answers 404 for a missing source', async () => {
      const body = Buffer.from('unchanged');
      await client.put(bucket, 'copy/fixed.txt', body, governance(body));
      const altered = await client.call('PUT', client.objectUrl(bucket, 'copy/altered.txt'), {
        headers: { 'x-eosc-copy-source': `${bucket}/copy/fixed.txt`, 'x-eosc-classification': 'public' },
      });
      expect(altered.status).toBe(400);
      expect(altered.json).toMatchObject({ code: 'EOSC_GOVERNANCE_METADATA_IMMUTABLE', evidence_pointer: expect.any(String) });
      // Repeating a value unchanged is fine.
      const same = await client.call('PUT', client.objectUrl(bucket, 'copy/same.txt'), {
        headers: { 'x-eosc-copy-source': `/${bucket}/copy/fixed.txt`, 'x-eosc-classification': 'internal' },
      });
      expect(same.status).toBe(201);

      const other = uniqueId('t');
      expect((await env.gql(CREATE_TENANT, { input: tenantInput(other) })).errors).toBeUndefined();
      const otherBucket = await client.createBucket(other);
      const platformAdmin = await env.token('platform-admin');
      const crossTenant = await client.call('PUT', client.objectUrl(otherBucket, 'stolen.txt'), {
        headers: { 'x-eosc-copy-source': `${bucket}/copy/fixed.txt` },
        token: platformAdmin,
      });
      expect(crossTenant.status).toBe(403);
      expect((await last(other)).refusalReasonCode).toBe('cross_tenant_copy');
      const otherAdmin = await env.token('tenant-admin', other);
      const byOther = await client.call('PUT', client.objectUrl(otherBucket, 'stolen.txt'), {
        headers: { 'x-eosc-copy-source': `${bucket}/copy/fixed.txt` },
        token: otherAdmin,
      });
      expect(byOther.status).toBe(403);
      expect(byOther.body.toString()).not.toContain('unchanged');

      const missing = await client.call('PUT', client.objectUrl(bucket, 'copy/x.txt'), {
        headers: { 'x-eosc-copy-source': `${bucket}/copy/none.txt` },
      });
      expect([missing.status, missing.json.code]).toEqual([404, 'ECS_NOT_FOUND']);
      const malformed = await client.call('PUT', client.objectUrl(bucket, 'copy/x.txt'), { headers: { 'x-eosc-copy-source': 'no-key' } });
      expect([malformed.status, malformed.json.code]).toEqual([400, 'ECS_BAD_REQUEST']);
    });
  });

  describe('read-verify', () => {
    it('re-hashes the stored bytes: served and evidenced when intact, refused with evidence when corrupted', async () => {
      const content = `verify me ${uniqueId()}`;
      const result = await stored(bucket, 'verify.txt', content);
      const intact = await client.get(bucket, 'verify.txt', { query: '?verify_integrity=true' });
      expect(intact.status).toBe(200);
      expect(intact.headers['x-eosc-integrity-verified']).toBe('true');
      const getEvent = (await chain()).filter((e) => e.eventType === 'object.get').at(-1)!;
      expect(getEvent.details).toMatchObject({ read_verified: true, version_id: result.version_id });

      // Corrupt the stored bytes behind the service's back.
      writeFileSync(blobPath(env.dataDir, result.etag), 'tampered!');
      const refused = await client.get(bucket, 'verify.txt', { headers: { 'x-eosc-verify-integrity': 'true' } });
      expect(refused.status).toBe(409);
      expect(refused.json).toMatchObject({ code: 'EOSC_STORED_INTEGRITY_MISMATCH', evidence_pointer: expect.any(String) });
      expect(refused.body.toString()).not.toContain('tampered');
      expect(await last()).toMatchObject({
        eventType: 'object.get',
        outcome: 'refused',
        refusalReasonClass: 'evidence_precondition_failed',
        refusalReasonCode: 'stored_integrity_mismatch',
        details: expect.objectContaining({
          read_verify: true,
          integrity: `sha256:${result.etag}`,
          computed_integrity: `sha256:${sha256(Buffer.from('tampered!'))}`,
        }),
      });
      expect((await client.get(bucket, 'verify.txt', { query: '?verify_integrity=maybe' })).status).toBe(400);
    });

    it('without read-verify, stored bytes of another length than the record are refused with evidence, never served', async () => {
      for (const [key, stand] of [
        ['shorter.txt', 'short'],
        ['longer.txt', 'x'.repeat(100)],
      ] as const) {
        const result = await stored(bucket, key, `recorded ${uniqueId()}`);
        writeFileSync(blobPath(env.dataDir, result.etag), stand);
        const refused = await client.get(bucket, key);
        expect(refused.status).toBe(409);
        expect(refused.json).toMatchObject({ code: 'EOSC_STORED_INTEGRITY_MISMATCH', evidence_pointer: expect.any(String) });
        expect(refused.body.toString()).not.toContain(stand);
        expect(await last()).toMatchObject({
          eventType: 'object.get',
          outcome: 'refused',
          refusalReasonCode: 'stored_integrity_mismatch',
          details: expect.objectContaining({
            read_verify: false,
            version_id: result.version_id,
            computed_size: stand.length,
            computed_integrity: `sha256:${sha256(Buffer.from(stand))}`,
          }),
        });
      }
    });

    it('a stored object whose bytes are gone is refused with evidence, small or streamed', async () => {
      for (const size of [10, 64 * 1024 + 1]) {
        const body = randomBytes(size);
        const key = `gone-${size}.bin`;
        const put = await client.put(bucket, key, body, governance(body));
        expect(put.status).toBe(201);
        rmSync(blobPath(env.dataDir, (put.json as { etag: string }).etag));
        const refused = await client.get(bucket, key);
        expect([refused.status, refused.json.code]).toEqual([409, 'EOSC_STORED_INTEGRITY_MISMATCH']);
        expect(await last()).toMatchObject({
          eventType: 'object.get',
          outcome: 'refused',
          refusalReasonCode: 'stored_object_missing',
          details: expect.objectContaining({ read_verify: false, size }),
        });
      }
    });

    it('serves objects either side of the whole-read size (64 KiB) byte for byte, each with its two events', async () => {
      for (const size of [0, 64 * 1024, 64 * 1024 + 1]) {
        const body = randomBytes(size);
        const key = `edge-${size}.bin`;
        expect((await client.put(bucket, key, body, governance(body))).status).toBe(201);
        const before = (await chain()).length;
        const read = await client.get(bucket, key);
        expect([read.status, read.headers['content-length'], read.body.equals(body)]).toEqual([200, String(size), true]);
        const events = (await chain()).slice(before).map((e) => e.eventType);
        expect(events).toEqual(['object.get', 'data.usage.receipt']);
      }
    });
  });

  describe('multipart upload', () => {
    const part = (n: number) => Buffer.alloc(256 * 1024 + n, String.fromCharCode(97 + n));

    it('assembles the parts in order, checks the declared hash over the whole object, and evidences the put', async () => {
      const parts = [part(0), part(1), part(2)];
      const whole = Buffer.concat(parts);
      const started = await client.call('POST', client.objectUrl(bucket, 'mp/whole.bin', '?uploads'), {
        headers: governance(whole, { 'content-type': 'application/octet-stream' }),
      });
      expect(started.status).toBe(201);
      const uploadId = started.json.upload_id as string;
      // Part 2 is first sent wrong, then replaced.
      expect(
        (
          await client.call('PUT', client.objectUrl(bucket, 'mp/whole.bin', `?upload_id=${uploadId}&part_number=2`), {
            body: Buffer.from('wrong'),
          })
        ).status,
      ).toBe(200);
      for (const [index, bytes] of parts.entries()) {
        const uploaded = await client.call(
          'PUT',
          client.objectUrl(bucket, 'mp/whole.bin', `?upload_id=${uploadId}&part_number=${index + 1}`),
          { body: bytes },
        );
        expect(uploaded.json).toMatchObject({ part_number: index + 1, etag: sha256(bytes), size: bytes.length });
      }
      const listed = await client.get(bucket, 'mp/whole.bin', { query: `?upload_id=${uploadId}` });
      expect((listed.json.parts as Array<{ etag: string }>).map((p) => p.etag)).toEqual(parts.map(sha256));
      const done = await client.control('POST', bucket, 'mp/whole.bin', `?upload_id=${uploadId}`, {
        parts: parts.map((bytes, index) => ({ part_number: index + 1, etag: sha256(bytes) })),
      });
      expect(done.status).toBe(201);
      expect(done.json).toMatchObject({ etag: sha256(whole), size: whole.length, origin: 'multipart', parts: 3 });
      const read = await client.get(bucket, 'mp/whole.bin');
      expect(read.body.equals(whole)).toBe(true);
      expect(read.headers['x-eosc-integrity']).toBe(`sha256:${sha256(whole)}`);
      expect((await chain()).filter((e) => e.eventType === 'object.put' && e.outcome === 'accepted').at(-1)).toMatchObject({
        evidencePointer: done.json.evidence_pointer,
        details: expect.objectContaining({
          object_key: 'mp/whole.bin',
          origin: 'multipart',
          upload_id: uploadId,
          parts: 3,
          integrity_verified: true,
        }),
      });
      // A completed upload takes no more parts and cannot complete twice.
      expect(
        (await client.call('PUT', client.objectUrl(bucket, 'mp/whole.bin', `?upload_id=${uploadId}&part_number=4`), { body: part(3) })).json
          .code,
      ).toBe('EOSC_UPLOAD_NOT_OPEN');
      expect((await client.control('POST', bucket, 'mp/whole.bin', `?upload_id=${uploadId}`, {})).json.code).toBe('EOSC_UPLOAD_NOT_OPEN');
    });

    it('stores nothing when the assembled object does not match the declared hash (refusal evidence); abort is evidenced', async () => {
      const declared = Buffer.from('what the client promised');
      const started = await client.call('POST', client.objectUrl(bucket, 'mp/bad.bin', '?uploads'), { headers: governance(declared) });
      const uploadId = started.json.upload_id as string;
      await client.call('PUT', client.objectUrl(bucket, 'mp/bad.bin', `?upload_id=${uploadId}&part_number=1`), { body: part(5) });
      const mismatch = await client.control('POST', bucket, 'mp/bad.bin', `?upload_id=${uploadId}`, {});
      expect(mismatch.status).toBe(400);
      expect(mismatch.json).toMatchObject({ code: 'EOSC_INTEGRITY_MISMATCH', evidence_pointer: expect.any(String) });
      expect(await last()).toMatchObject({
        eventType: 'object.put',
        outcome: 'refused',
        refusalReasonCode: 'integrity_mismatch',
        details: expect.objectContaining({ upload_id: uploadId, parts: 1 }),
      });
      expect((await client.get(bucket, 'mp/bad.bin', { method: 'HEAD' })).status).toBe(404);
      expect(temporaryFiles(env.dataDir)).toEqual([]);

      const aborted = await client.get(bucket, 'mp/bad.bin', { method: 'DELETE', query: `?upload_id=${uploadId}` });
      expect(aborted.status).toBe(204);
      expect(await last()).toMatchObject({
        eventType: 'object.multipart.abort',
        outcome: 'accepted',
        details: expect.objectContaining({ upload_id: uploadId, parts: 1 }),
      });
      expect((await client.get(bucket, 'mp/bad.bin', { method: 'DELETE', query: `?upload_id=${uploadId}` })).json.code).toBe(
        'EOSC_UPLOAD_NOT_OPEN',
      );
    });

    it("started without the object's integrity, takes only parts that declare their SHA-256; the object's integrity is then the parts' hash", async () => {
      const parts = [part(3), part(4)];
      const whole = Buffer.concat(parts);
      const key = 'mp/per-part.bin';
      const started = await client.call('POST', client.objectUrl(bucket, key, '?uploads'), {
        headers: governance(whole, { 'x-eosc-integrity': undefined }),
      });
      expect(started.status).toBe(201);
      const uploadId = started.json.upload_id as string;
      const partUrl = (n: number) => client.objectUrl(bucket, key, `?upload_id=${uploadId}&part_number=${n}`);
      const blobsBefore = blobFiles(env.dataDir);

      // No declaration, a wrong one, and MD5: refused with evidence, and nothing stored.
      const undeclared = await client.call('PUT', partUrl(1), { body: parts[0] });
      expect([undeclared.status, undeclared.json.code]).toEqual([400, 'EOSC_MISSING_INTEGRITY']);
      expect(undeclared.json.message).toContain('each part declares its SHA-256');
      expect(await last()).toMatchObject({
        eventType: 'object.put',
        outcome: 'refused',
        refusalReasonCode: 'missing_integrity',
        evidencePointer: undeclared.json.evidence_pointer,
        details: expect.objectContaining({ upload_id: uploadId, part_number: 1, header: 'x-eosc-integrity' }),
      });
      const wrong = await client.call('PUT', partUrl(1), {
        body: parts[0],
        headers: { 'x-eosc-integrity': `sha256:${sha256(parts[1]!)}` },
      });
      expect([wrong.status, wrong.json.code]).toEqual([400, 'EOSC_INTEGRITY_MISMATCH']);
      expect(await last()).toMatchObject({
        refusalReasonCode: 'integrity_mismatch',
        details: expect.objectContaining({ part_number: 1, computed_integrity: `sha256:${sha256(parts[0]!)}` }),
      });
      const md5 = await client.call('PUT', partUrl(1), { body: parts[0], headers: { 'x-eosc-integrity': `md5:${'0'.repeat(32)}` } });
      expect([md5.status, md5.json.code]).toEqual([400, 'EOSC_INTEGRITY_ALGORITHM_UNSUPPORTED']);
      // The S3 endpoint's trailer claim is never taken from a /v1 client.
      const claimed = await client.call('PUT', partUrl(1), { body: parts[0], headers: { 'x-eosc-integrity-from-trailer': 'sha256' } });
      expect(claimed.json.code).toBe('EOSC_MISSING_INTEGRITY');
      expect(blobFiles(env.dataDir)).toEqual(blobsBefore);
      expect((await client.get(bucket, key, { query: `?upload_id=${uploadId}` })).json.parts).toEqual([]);

      for (const [index, bytes] of parts.entries()) {
        const uploaded = await client.call('PUT', partUrl(index + 1), {
          body: bytes,
          headers: { 'x-eosc-integrity': `sha256:${sha256(bytes)}` },
        });
        expect(uploaded.json).toMatchObject({ part_number: index + 1, etag: sha256(bytes) });
      }
      const done = await client.control('POST', bucket, key, `?upload_id=${uploadId}`, {});
      expect(done.status).toBe(201);
      expect(done.json).toMatchObject({ etag: sha256(whole), integrity: `sha256:${sha256(whole)}`, origin: 'multipart', parts: 2 });
      expect((await client.get(bucket, key, { method: 'HEAD' })).headers['x-eosc-integrity']).toBe(`sha256:${sha256(whole)}`);
      expect(await last()).toMatchObject({
        eventType: 'object.put',
        outcome: 'accepted',
        evidencePointer: done.json.evidence_pointer,
        details: expect.objectContaining({
          upload_id: uploadId,
          integrity: `sha256:${sha256(whole)}`,
          integrity_source: 'the SHA-256 declared by each part',
        }),
      });
    });

    it("a part of an upload with the object's integrity may declare its own, which is checked too", async () => {
      const bytes = part(6);
      const key = 'mp/both.bin';
      const started = await client.call('POST', client.objectUrl(bucket, key, '?uploads'), { headers: governance(bytes) });
      const uploadId = started.json.upload_id as string;
      const partUrl = client.objectUrl(bucket, key, `?upload_id=${uploadId}&part_number=1`);
      const wrong = await client.call('PUT', partUrl, { body: bytes, headers: { 'x-eosc-integrity': `sha256:${'1'.repeat(64)}` } });
      expect(wrong.json.code).toBe('EOSC_INTEGRITY_MISMATCH');
      expect((await client.call('PUT', partUrl, { body: bytes })).status).toBe(200);
      const done = await client.control('POST', bucket, key, `?upload_id=${uploadId}`, {});
      expect(done.json).toMatchObject({ integrity: `sha256:${sha256(bytes)}` });
      expect((await last()).details).not.toHaveProperty('integrity_source');
    });

    it('validates governance at initiation (refusal evidence), part numbers, and completion bodies', async () => {
      const body = Buffer.from('x');
      const missing = await client.call('POST', client.objectUrl(bucket, 'mp/refused.bin', '?uploads'), {
        headers: governance(body, { 'x-eosc-jurisdiction': undefined }),
      });
      expect(missing.json).toMatchObject({ code: 'EOSC_MISSING_JURISDICTION', evidence_pointer: expect.any(String) });
      const started = await client.call('POST', client.objectUrl(bucket, 'mp/v.bin', '?uploads'), { headers: governance(body) });
      const uploadId = started.json.upload_id as string;
      for (const number of ['0', '10001', 'x', '']) {
        const bad = await client.call('PUT', client.objectUrl(bucket, 'mp/v.bin', `?upload_id=${uploadId}&part_number=${number}`), {
          body,
        });
        expect([number, bad.status]).toEqual([number, 400]);
      }
      expect((await client.control('POST', bucket, 'mp/v.bin', `?upload_id=${uploadId}`, {})).json.code).toBe('ECS_VALIDATION_FAILED');
      await client.call('PUT', client.objectUrl(bucket, 'mp/v.bin', `?upload_id=${uploadId}&part_number=1`), { body });
      const wrongEtag = await client.control('POST', bucket, 'mp/v.bin', `?upload_id=${uploadId}`, {
        parts: [{ part_number: 1, etag: 'f'.repeat(64) }],
      });
      expect([wrongEtag.status, wrongEtag.json.code]).toEqual([400, 'ECS_VALIDATION_FAILED']);
      const otherKey = await client.call('PUT', client.objectUrl(bucket, 'mp/other.bin', `?upload_id=${uploadId}&part_number=1`), { body });
      expect(otherKey.json.code).toBe('EOSC_UPLOAD_NOT_OPEN');
      expect(
        (await client.control('POST', bucket, 'mp/v.bin', `?upload_id=${uploadId}`, { parts: [{ part_number: 1, etag: sha256(body) }] }))
          .status,
      ).toBe(201);
    });
  });

  describe('versions', () => {
    it('lists every version newest first, deletes one version for good, and an older one becomes current', async () => {
      const versioned = await client.createBucket(tenantId, { versioning: true });
      const v1 = await stored(versioned, 'doc.txt', 'one');
      const v2 = await stored(versioned, 'doc.txt', 'two');
      const v3 = await stored(versioned, 'doc.txt', 'three', { 'x-eosc-retention-ttl': 'P1D' });
      const listing = await client.get(versioned, 'doc.txt', { query: '?versions&limit=2' });
      expect(listing.status).toBe(200);
      const firstPage = listing.json.versions as Array<{ version_id: string; is_current: boolean }>;
      expect(firstPage.map((v) => v.version_id)).toEqual([v3.version_id, v2.version_id]);
      expect(firstPage[0]!.is_current).toBe(true);
      const rest = await client.get(versioned, 'doc.txt', {
        query: `?versions&cursor=${encodeURIComponent(listing.json.next_cursor as string)}`,
      });
      expect((rest.json.versions as Array<{ version_id: string }>).map((v) => v.version_id)).toEqual([v1.version_id]);

      // The retained current version cannot be removed; the middle one can.
      const locked = await client.get(versioned, 'doc.txt', { method: 'DELETE', query: `?version_id=${v3.version_id}` });
      expect(locked.json).toMatchObject({ code: 'EOSC_OBJECT_LOCKED' });
      expect(await last()).toMatchObject({
        eventType: 'object.version.delete',
        outcome: 'refused',
        refusalReasonCode: 'retention_in_force',
      });
      const removed = await client.get(versioned, 'doc.txt', { method: 'DELETE', query: `?version_id=${v2.version_id}` });
      expect(removed.status).toBe(204);
      expect(await last()).toMatchObject({
        eventType: 'object.version.delete',
        outcome: 'accepted',
        details: expect.objectContaining({ version_id: v2.version_id, was_current: false }),
      });
      expect((await client.get(versioned, 'doc.txt', { query: `?version_id=${v2.version_id}` })).status).toBe(404);

      // A delete marker, then removing the marker brings the object back.
      const unretained = await client.createBucket(tenantId, { versioning: true });
      const a = await stored(unretained, 'x.txt', 'first');
      expect((await client.get(unretained, 'x.txt', { method: 'DELETE' })).status).toBe(204);
      expect((await client.get(unretained, 'x.txt')).status).toBe(404);
      const versions = (await client.get(unretained, 'x.txt', { query: '?versions' })).json.versions as Array<{
        version_id: string;
        delete_marker: boolean;
      }>;
      expect(versions.map((v) => v.delete_marker)).toEqual([true, false]);
      expect((await client.get(unretained, 'x.txt', { method: 'DELETE', query: `?version_id=${versions[0]!.version_id}` })).status).toBe(
        204,
      );
      const back = await client.get(unretained, 'x.txt');
      expect([back.status, back.body.toString(), back.headers['x-eosc-version-id']]).toEqual([200, 'first', a.version_id]);
    });
  });

  describe('suspended tenant', () => {
    it('refuses reading bytes (with evidence) but keeps metadata readable; a legal hold can still be placed, not released', async () => {
      const suspended = uniqueId('t');
      expect((await env.gql(CREATE_TENANT, { input: tenantInput(suspended) })).errors).toBeUndefined();
      const admin = await env.token('tenant-admin', suspended);
      const own = storageClient(env, admin);
      const ownBucket = await own.createBucket(suspended);
      const body = Buffer.from('frozen');
      expect((await own.put(ownBucket, 'f.txt', body, governance(body))).status).toBe(201);
      expect((await env.gql('mutation($id: ID!) { suspendTenant(id: $id) { status } }', { id: suspended })).errors).toBeUndefined();

      const read = await own.get(ownBucket, 'f.txt');
      expect(read.status).toBe(403);
      expect(read.json).toMatchObject({ code: 'ECS_POLICY_DENIED', evidence_pointer: expect.any(String) });
      expect(read.body.toString()).not.toContain('frozen');
      expect(await last(suspended)).toMatchObject({ eventType: 'object.get', outcome: 'refused', refusalReasonCode: 'tenant_suspended' });
      expect((await own.get(ownBucket, 'f.txt', { method: 'HEAD' })).status).toBe(200);
      expect((await own.put(ownBucket, 'g.txt', body, governance(body))).json.code).toBe('ECS_POLICY_DENIED');
      expect((await own.control('PUT', ownBucket, 'f.txt', '?legal_hold', { status: 'ON' })).status).toBe(200);
      expect((await own.control('PUT', ownBucket, 'f.txt', '?legal_hold', { status: 'OFF' })).json.code).toBe('ECS_POLICY_DENIED');
    });
  });

  it('MAX_OBJECT_BYTES: a declared, streamed or assembled object over the limit is refused with evidence and stores nothing', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const over = MAX_OBJECT_BYTES / chunk.length + 1;
    const stream = () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < over; i += 1) yield chunk;
        })(),
      );
    const declared = await client.put(bucket, 'big/declared.bin', stream(), {
      ...governance(Buffer.from('x')),
      'content-length': String(over * chunk.length),
    });
    expect([declared.status, declared.json.code]).toEqual([413, 'EOSC_OBJECT_TOO_LARGE']);
    const chunked = await client.put(bucket, 'big/chunked.bin', stream(), governance(Buffer.from('whatever')));
    expect([chunked.status, chunked.json.code]).toEqual([413, 'EOSC_OBJECT_TOO_LARGE']);
    expect(await last()).toMatchObject({ eventType: 'object.put', outcome: 'refused', refusalReasonCode: 'object_too_large' });

    const started = await client.call('POST', client.objectUrl(bucket, 'big/parts.bin', '?uploads'), {
      headers: governance(Buffer.from('y')),
    });
    const uploadId = started.json.upload_id as string;
    const half = Buffer.alloc(MAX_OBJECT_BYTES / 2 + 1, 1);
    for (const number of [1, 2]) {
      expect(
        (
          await client.call('PUT', client.objectUrl(bucket, 'big/parts.bin', `?upload_id=${uploadId}&part_number=${number}`), {
            body: half,
          })
        ).status,
      ).toBe(200);
    }
    const assembled = await client.control('POST', bucket, 'big/parts.bin', `?upload_id=${uploadId}`, {});
    expect([assembled.status, assembled.json.code]).toEqual([413, 'EOSC_OBJECT_TOO_LARGE']);
    for (const key of ['big/declared.bin', 'big/chunked.bin', 'big/parts.bin'])
      expect((await client.get(bucket, key, { method: 'HEAD' })).status).toBe(404);
    expect(temporaryFiles(env.dataDir)).toEqual([]);
  });

  it('the OpenAPI document describes the object operations', async () => {
    const doc = (await (await fetch(`${env.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
    };
    const object = doc.paths['/v1/storage/{bucket}/objects/{key}']!;
    expect(Object.keys(object).sort()).toEqual(['delete', 'get', 'head', 'post', 'put']);
    const names = object.put!.parameters!.map((parameter) => parameter.name);
    for (const name of [
      'x-eosc-jurisdiction',
      'x-eosc-integrity',
      'x-eosc-copy-source',
      'legal_hold',
      'retention',
      'upload_id',
      'part_number',
    ])
      expect(names).toContain(name);
    expect(doc.paths['/v1/storage/{bucket}/objects']!.get).toBeDefined();
  });

  describe('blob store clean-up', () => {
    it('an upload the client abandons halfway leaves no object, no blob and no temporary file', async () => {
      const key = `aborted-${uniqueId()}.bin`;
      const total = 8 * 1024 * 1024;
      const first = randomBytes(1024 * 1024);
      const digest = createHash('sha256').update(first).digest('hex');
      const url = new URL(client.objectUrl(bucket, key));
      const headers = {
        ...governance(first, { 'x-eosc-integrity': `sha256:${'1'.repeat(64)}` }),
        authorization: `Bearer ${adminToken}`,
        'content-length': String(total),
        host: url.host,
      };
      const socket = connect(Number(url.port), url.hostname);
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(
        `PUT ${url.pathname} HTTP/1.1\r\n${Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}`)
          .join('\r\n')}\r\n\r\n`,
      );
      socket.write(first);
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.destroy();
      // The data plane notices the broken stream, removes the temporary file and stores nothing.
      const deadline = Date.now() + 10_000;
      while (temporaryFiles(env.dataDir).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(temporaryFiles(env.dataDir)).toEqual([]);
      expect(blobFiles(env.dataDir)).not.toContain(digest);
      expect((await client.get(bucket, key, { method: 'HEAD' })).status).toBe(404);
      expect(await env.stack.services.db.prisma.storageObjectVersion.count({ where: { bucket, key } })).toBe(0);
    });

    it('the orphan sweep removes overwritten, deleted and aborted bytes and stale temporary files, never a referenced blob', async () => {
      const sweepBucket = await client.createBucket(tenantId);
      const old = await stored(sweepBucket, 'o.txt', `old ${uniqueId()}`);
      const current = await stored(sweepBucket, 'o.txt', `new ${uniqueId()}`);
      const gone = await stored(sweepBucket, 'd.txt', `deleted ${uniqueId()}`);
      expect((await client.get(sweepBucket, 'd.txt', { method: 'DELETE' })).status).toBe(204);
      const kept = await stored(sweepBucket, 'k.txt', `kept ${uniqueId()}`);
      const started = await client.call('POST', client.objectUrl(sweepBucket, 'm.bin', '?uploads'), {
        headers: governance(Buffer.from('m')),
      });
      const partBytes = Buffer.from(`part ${uniqueId()}`);
      await client.call('PUT', client.objectUrl(sweepBucket, 'm.bin', `?upload_id=${String(started.json.upload_id)}&part_number=1`), {
        body: partBytes,
      });
      const openPart = Buffer.from(`open part ${uniqueId()}`);
      const open = await client.call('POST', client.objectUrl(sweepBucket, 'n.bin', '?uploads'), { headers: governance(Buffer.from('n')) });
      await client.call('PUT', client.objectUrl(sweepBucket, 'n.bin', `?upload_id=${String(open.json.upload_id)}&part_number=1`), {
        body: openPart,
      });
      expect(
        (await client.get(sweepBucket, 'm.bin', { method: 'DELETE', query: `?upload_id=${String(started.json.upload_id)}` })).status,
      ).toBe(204);
      writeFileSync(path.join(env.dataDir, 'blobs', 'tmp', 'crashed-upload.part'), 'half');

      const blobs = new FsBlobStore(path.join(env.dataDir, 'blobs'));
      // Within the grace period nothing is touched.
      const early = await sweepOrphanBlobs(env.stack.services.db, blobs, 3_600_000);
      expect(early.removedBlobs).toEqual([]);
      const result = await sweepOrphanBlobs(env.stack.services.db, blobs, 0, Date.now() + 1_000);
      expect(result.removedBlobs).toEqual(expect.arrayContaining([old.etag, gone.etag, sha256(partBytes)]));
      expect(result.removedTemporary).toBeGreaterThanOrEqual(1);
      const left = blobFiles(env.dataDir);
      for (const digest of [current.etag, kept.etag, sha256(openPart)]) expect(left).toContain(digest);
      for (const digest of [old.etag, gone.etag, sha256(partBytes)]) expect(left).not.toContain(digest);
      expect(temporaryFiles(env.dataDir)).toEqual([]);
      expect((await client.get(sweepBucket, 'o.txt')).body.toString()).toMatch(/^new /);
      expect((await client.get(sweepBucket, 'k.txt')).status).toBe(200);
    });
  });
});
