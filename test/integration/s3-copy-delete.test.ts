import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { request } from 'undici';
import { smithySigner } from '../support/smithy-signer';
import { DATA_S3_SCOPES, createS3Bucket, createS3Tenant, governanceMetadata, s3Refusal } from '../support/s3-tenant';
import type { S3Tenant } from '../support/s3-tenant';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const GOVERNANCE = governanceMetadata('copy', { 'eosc-retention-ttl': 'P0D' });

const sha256 = (bytes: string | Buffer): string => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: string | Buffer): string => createHash('md5').update(bytes).digest('hex');

describe('S3 CopyObject and DeleteObjects with the AWS SDK', () => {
  let env: TestStack;
  let s3: S3Client;
  let other: S3Client;
  const tenantId = uniqueId('s3c');
  const otherTenantId = uniqueId('s3o');
  const bucket = uniqueId('cpy');
  const otherBucket = uniqueId('oth');
  const versioned = uniqueId('ver');

  let tenant: S3Tenant;
  let otherTenant: S3Tenant;

  beforeAll(async () => {
    env = await startTestStack();
    tenant = await createS3Tenant(env, tenantId, { name: 'sdk', scopes: DATA_S3_SCOPES });
    otherTenant = await createS3Tenant(env, otherTenantId, { name: 'sdk', scopes: DATA_S3_SCOPES });
    s3 = tenant.client;
    other = otherTenant.client;
    await createS3Bucket(s3, bucket);
    await createS3Bucket(s3, versioned, { objectLock: true });
    await createS3Bucket(other, otherBucket);
  });
  afterAll(async () => {
    s3?.destroy();
    other?.destroy();
    await env?.stop();
  });

  it('copies with the COPY directive, keeping the governance metadata, with object.copy evidence', async () => {
    const body = 'copy me, governed';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src/a.txt', Body: body, Metadata: GOVERNANCE }));
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst/a copy.txt',
        CopySource: `${bucket}/src/a.txt`,
        Metadata: { 'eosc-classification': 'public' },
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5(body)}"`);
    expect(copied.CopyObjectResult?.LastModified).toBeInstanceOf(Date);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dst/a copy.txt' }));
    expect(await got.Body!.transformToString()).toBe(body);
    expect(got.Metadata).toMatchObject({ 'eosc-classification': 'internal', 'eosc-data-product-id': 'dp-copy' });
    expect(got.Metadata!['eosc-integrity']).toBe(`sha256:${sha256(body)}`);
    const copy = (await tenant.events()).find((event) => event.eventType === 'object.copy' && event.outcome === 'accepted');
    expect(copy?.details).toMatchObject({ source_key: 'src/a.txt' });
    expect(copy?.evidencePointer).toBeTruthy();
  });

  it('copies a named version of the source', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'src/v.txt', Body: 'first', Metadata: GOVERNANCE }));
    await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'src/v.txt', Body: 'second', Metadata: GOVERNANCE }));
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'dst/v.txt', CopySource: `${versioned}/src/v.txt?versionId=${first.VersionId}` }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5('first')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dst/v.txt' }));
    expect(await got.Body!.transformToString()).toBe('first');
  });

  it('copies with the REPLACE directive, taking new governance metadata, with object.put evidence', async () => {
    const body = Buffer.from('replace my metadata '.repeat(100));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src/r.bin', Body: body, Metadata: GOVERNANCE }));
    const replaced = { ...GOVERNANCE, 'eosc-classification': 'public', 'eosc-data-product-id': 'dp-replaced' };
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst/r.bin',
        CopySource: `/${bucket}/src/r.bin`,
        MetadataDirective: 'REPLACE',
        Metadata: replaced,
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5(body)}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst/r.bin' }));
    expect(head.Metadata).toMatchObject({ 'eosc-classification': 'public', 'eosc-data-product-id': 'dp-replaced' });
    expect(head.Metadata!['eosc-integrity']).toBe(`sha256:${sha256(body)}`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dst/r.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    const put = (await tenant.events()).find(
      (event) => event.eventType === 'object.put' && event.outcome === 'accepted' && JSON.stringify(event.details).includes('dst/r.bin'),
    );
    expect(put?.evidencePointer).toBeTruthy();

    const missing = await s3Refusal(
      s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'dst/r2.bin',
          CopySource: `${bucket}/src/r.bin`,
          MetadataDirective: 'REPLACE',
          Metadata: { 'eosc-retention-ttl': 'P0D' },
        }),
      ),
    );
    expect([missing.name, missing.$metadata.httpStatusCode]).toEqual(['EOSC_MISSING_JURISDICTION', 400]);
  });

  it('keeps user metadata (x-amz-meta-*) with the object: answered on GET and HEAD, kept by COPY, replaced by REPLACE, carried by a multipart upload', async () => {
    const own = { color: 'blue', mtime: '1733500000.123456789', 'note-with.dots_and-dashes': 'a value, with spaces' };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta/a.txt', Body: 'with metadata', Metadata: { ...GOVERNANCE, ...own } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta/a.txt' }));
    expect(head.Metadata).toMatchObject(own);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta/a.txt' }));
    expect(got.Metadata).toMatchObject(own);
    await got.Body!.transformToString();

    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'meta/kept.txt', CopySource: `${bucket}/meta/a.txt` }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta/kept.txt' }))).Metadata).toMatchObject(own);
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'meta/replaced.txt',
        CopySource: `${bucket}/meta/a.txt`,
        MetadataDirective: 'REPLACE',
        Metadata: { ...GOVERNANCE, color: 'green' },
      }),
    );
    const replaced = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta/replaced.txt' }))).Metadata!;
    expect(replaced.color).toBe('green');
    expect(replaced).not.toHaveProperty('mtime');

    const upload = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'meta/parts.bin', Metadata: { ...GOVERNANCE, color: 'red' } }),
    );
    const part = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'meta/parts.bin', UploadId: upload.UploadId, PartNumber: 1, Body: 'one part' }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'meta/parts.bin',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta/parts.bin' }))).Metadata).toMatchObject({ color: 'red' });

    // Over S3's 2 KiB of names and values: refused, and nothing stored.
    const tooLarge = await s3Refusal(
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'meta/large.txt', Body: 'x', Metadata: { ...GOVERNANCE, big: 'v'.repeat(2100) } }),
      ),
    );
    expect([tooLarge.name, tooLarge.$metadata.httpStatusCode]).toEqual(['MetadataTooLarge', 400]);
    const missing = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta/large.txt' })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  it("refuses a copy from another tenant's bucket, with either directive", async () => {
    await other.send(new PutObjectCommand({ Bucket: otherBucket, Key: 'secret.txt', Body: 'not yours', Metadata: GOVERNANCE }));
    for (const directive of ['COPY', 'REPLACE'] as const) {
      const refused = await s3Refusal(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: `stolen-${directive}.txt`,
            CopySource: `${otherBucket}/secret.txt`,
            MetadataDirective: directive,
            Metadata: GOVERNANCE,
          }),
        ),
      );
      expect(refused.$metadata.httpStatusCode).toBe(403);
      const absent = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `stolen-${directive}.txt` })));
      expect(absent.$metadata.httpStatusCode).toBe(404);
    }
    const refusals = (await otherTenant.events()).filter(
      (event) => event.eventType === 'authority.refusal' && event.outcome === 'refused' && event.details.caller_tenant_id === tenantId,
    );
    expect(refusals).toHaveLength(2);
    expect(refusals.every((event) => event.evidencePointer)).toBe(true);
  });

  it('deletes several keys at once, a locked one refused per key with its evidence', async () => {
    const keys = ['batch/one.txt', 'batch/two.txt', 'batch/three.txt'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key, Metadata: GOVERNANCE }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'batch/locked.txt',
        Body: 'held',
        Metadata: { ...GOVERNANCE, 'eosc-retention-ttl': 'P1D' },
      }),
    );
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [...keys, 'batch/locked.txt', 'batch/never-there.txt'].map((Key) => ({ Key })) },
      }),
    );
    expect(result.Deleted?.map((entry) => entry.Key).sort()).toEqual([...keys, 'batch/never-there.txt'].sort());
    expect(result.Errors?.map((entry) => [entry.Key, entry.Code])).toEqual([['batch/locked.txt', 'EOSC_OBJECT_LOCKED']]);
    for (const key of keys) {
      const gone = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
      expect(gone.$metadata.httpStatusCode).toBe(404);
    }
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'batch/locked.txt' }))).$metadata.httpStatusCode).toBe(200);

    const chain = await tenant.events();
    for (const key of keys) {
      expect(
        chain.some((event) => event.eventType === 'object.delete' && event.outcome === 'accepted' && event.details.object_key === key),
      ).toBe(true);
    }
    const refused = chain.find(
      (event) => event.eventType === 'object.delete' && event.outcome !== 'accepted' && event.details.object_key === 'batch/locked.txt',
    );
    expect(refused?.evidencePointer).toBeTruthy();
  });

  it('answers only the errors in quiet mode, and refuses a list without a checksum', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'quiet/a.txt', Body: 'a', Metadata: GOVERNANCE }));
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: 'quiet/a.txt' }, { Key: 'batch/locked.txt' }] } }),
    );
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(quiet.Errors?.map((entry) => entry.Key)).toEqual(['batch/locked.txt']);

    const xml = '<Delete><Object><Key>quiet/none.txt</Key></Object></Delete>';
    const send = async (extra: Record<string, string>) => {
      const endpoint = new URL(env.url);
      const signed = await smithySigner(tenant.accessKeyId, tenant.secretAccessKey).sign({
        method: 'POST',
        protocol: 'http:',
        hostname: endpoint.hostname,
        port: Number(endpoint.port),
        path: `/s3/${bucket}`,
        query: { delete: '' },
        headers: { host: endpoint.host, 'x-amz-content-sha256': sha256(xml), ...extra },
      });
      const answer = await request(`${env.url}/s3/${bucket}?delete=`, { method: 'POST', headers: signed.headers, body: xml });
      return [answer.statusCode, /<Code>([^<]+)<\/Code>/.exec(await answer.body.text())?.[1]];
    };
    expect(await send({})).toEqual([400, 'InvalidRequest']);
    expect(await send({ 'content-md5': createHash('md5').update('other').digest('base64') })).toEqual([400, 'BadDigest']);
    expect((await send({ 'content-md5': createHash('md5').update(xml).digest('base64') }))[0]).toBe(200);
  });
});
