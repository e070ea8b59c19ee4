import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { request } from 'undici';
import { smithySigner } from '../support/smithy-signer';
import { DATA_S3_SCOPES, createS3Tenant, governanceMetadata, s3ClientFor, s3Refusal } from '../support/s3-tenant';
import type { S3Tenant } from '../support/s3-tenant';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

/** The governance metadata as `aws s3 cp --metadata` sends it (integrity comes from the signed payload). */
const GOVERNANCE = governanceMetadata('s3');

describe('S3 wire protocol with the AWS SDK', () => {
  let env: TestStack;
  let s3: S3Client;
  let tenant: S3Tenant;
  const tenantId = uniqueId('s3p');
  const bucket = uniqueId('bkt');

  /** A client of the tenant's access key signing with `secretAccessKey` (by default the right one). */
  function client(secretAccessKey = tenant.secretAccessKey): S3Client {
    return s3ClientFor(`${env.url}/s3`, { accessKeyId: tenant.accessKeyId, secretAccessKey });
  }

  beforeAll(async () => {
    env = await startTestStack();
    tenant = await createS3Tenant(env, tenantId, { name: 'sdk', scopes: DATA_S3_SCOPES });
    s3 = tenant.client;
  });
  afterAll(async () => {
    s3?.destroy();
    await env?.stop();
  });

  it('creates, heads and lists buckets', async () => {
    const created = await s3.send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'DE' as never } }),
    );
    expect(created.$metadata.httpStatusCode).toBe(200);
    expect((await s3.send(new HeadBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode).toBe(200);
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((entry) => entry.Name)).toContain(bucket);
    const missing = await s3Refusal(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket-here' })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  it('puts an object with governance metadata, reads it whole, ranged and conditionally, with its evidence', async () => {
    const body = Buffer.from('hello governed S3 world, '.repeat(40));
    const key = 'reports/2026 Q4/résumé (final).txt';
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain', Metadata: GOVERNANCE }),
    );
    expect(put.$metadata.httpStatusCode).toBe(200);
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(got.Metadata).toMatchObject({ 'eosc-jurisdiction': 'DE', 'eosc-classification': 'internal' });
    expect(got.Metadata!['eosc-integrity']).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);

    const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=6-20' }));
    expect(ranged.$metadata.httpStatusCode).toBe(206);
    expect(ranged.ContentRange).toBe(`bytes 6-20/${body.length}`);
    expect(Buffer.from(await ranged.Body!.transformToByteArray()).toString()).toBe(body.subarray(6, 21).toString());

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect([head.ContentLength, head.ETag]).toEqual([body.length, put.ETag]);
    const notModified = await s3Refusal(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: put.ETag })));
    expect(notModified.$metadata.httpStatusCode).toBe(304);
    const failed = await s3Refusal(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: '"0000"' })));
    expect([failed.name, failed.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);

    const accepted = (await tenant.events()).filter((event) => event.eventType === 'object.put' && event.outcome === 'accepted');
    expect(accepted.some((event) => JSON.stringify(event.details).includes('résumé'))).toBe(true);
  });

  it('lists with prefix, delimiter, max-keys and continuation', async () => {
    for (const key of ['logs/a.txt', 'logs/b.txt', 'logs/deep/c.txt', 'logs/deep/d.txt', 'logs/z.txt']) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key, Metadata: GOVERNANCE }));
    }
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'logs/', Delimiter: '/' }));
    expect(page.Contents?.map((item) => item.Key)).toEqual(['logs/a.txt', 'logs/b.txt', 'logs/z.txt']);
    expect(page.CommonPrefixes?.map((item) => item.Prefix)).toEqual(['logs/deep/']);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const next = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'logs/', MaxKeys: 2, ContinuationToken: token }));
      keys.push(...(next.Contents ?? []).map((item) => item.Key!));
      token = next.NextContinuationToken;
    } while (token);
    expect(keys).toEqual(['logs/a.txt', 'logs/b.txt', 'logs/deep/c.txt', 'logs/deep/d.txt', 'logs/z.txt']);
  });

  it('serves a presigned GET to plain fetch, and refuses one that was tampered with', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared.txt', Body: 'shared bytes', Metadata: GOVERNANCE }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' }), { expiresIn: 300 });
    const fetched = await fetch(url);
    expect([fetched.status, await fetched.text()]).toEqual([200, 'shared bytes']);
    const tampered = await fetch(url.replace('shared.txt', 'shared.tx'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('deletes an object, with its evidence', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'gone.txt', Body: 'x', Metadata: { ...GOVERNANCE, 'eosc-retention-ttl': 'P0D' } }),
    );
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone.txt' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const missing = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'gone.txt' })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
    expect((await tenant.events()).some((event) => event.eventType === 'object.delete' && event.outcome === 'accepted')).toBe(true);
  });

  it('takes an aws-chunked upload signed chunk by chunk, and refuses one with a forged chunk', async () => {
    const data = Buffer.from('chunked and signed, '.repeat(5000));
    async function chunkedPut(key: string, forge: boolean, declare = true) {
      const signer = smithySigner(tenant.accessKeyId, tenant.secretAccessKey);
      const endpoint = new URL(env.url);
      const metadata = Object.fromEntries(Object.entries(GOVERNANCE).map(([name, value]) => [`x-amz-meta-${name}`, value]));
      const signingDate = new Date();
      const signed = await signer.sign(
        {
          method: 'PUT',
          protocol: 'http:',
          hostname: endpoint.hostname,
          port: Number(endpoint.port),
          path: `/s3/${bucket}/${key}`,
          query: {},
          headers: {
            host: endpoint.host,
            'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
            'x-amz-decoded-content-length': String(data.length),
            'content-encoding': 'aws-chunked',
            ...(declare ? { 'x-eosc-integrity': `sha256:${createHash('sha256').update(data).digest('hex')}` } : {}),
            ...metadata,
          },
        },
        { signingDate },
      );
      let prior = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))![1]!;
      const pieces: Buffer[] = [];
      for (let offset = 0; ; offset += 16_384) {
        const chunk = data.subarray(offset, offset + 16_384);
        let signature = await signer.sign({ headers: new Uint8Array(0), payload: chunk }, { signingDate, priorSignature: prior });
        prior = signature;
        if (forge && offset === 16_384) signature = signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
        pieces.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${signature}\r\n`), chunk, Buffer.from('\r\n'));
        if (chunk.length === 0) break;
      }
      return request(`${env.url}/s3/${bucket}/${key}`, { method: 'PUT', headers: signed.headers, body: Buffer.concat(pieces) });
    }
    const accepted = await chunkedPut('chunked.bin', false);
    await accepted.body.dump();
    expect(accepted.statusCode).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'chunked.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    const forged = await chunkedPut('forged.bin', true);
    expect(forged.statusCode).toBe(403);
    expect(await forged.body.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const missing = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'forged.bin' })));
    expect(missing.$metadata.httpStatusCode).toBe(404);

    // No integrity declared: the chunk signatures cover every byte, so the SHA-256 the data plane
    // computes is the integrity; a forged chunk still stores nothing.
    const vouched = await chunkedPut('vouched.bin', false, false);
    await vouched.body.dump();
    expect(vouched.statusCode).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'vouched.bin' }));
    expect(head.Metadata?.['eosc-integrity']).toBe(`sha256:${createHash('sha256').update(data).digest('hex')}`);
    const put = (await tenant.events()).find(
      (event) => event.eventType === 'object.put' && event.outcome === 'accepted' && event.details.object_key === 'vouched.bin',
    );
    expect(put?.details).toMatchObject({ integrity_source: 'aws-chunked chunk signatures' });
    const forgedUndeclared = await chunkedPut('forged-undeclared.bin', true, false);
    expect(forgedUndeclared.statusCode).toBe(403);
    await forgedUndeclared.body.dump();
    const none = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'forged-undeclared.bin' })));
    expect(none.$metadata.httpStatusCode).toBe(404);
  });

  it('refuses a write without jurisdiction with the EOSC code and its evidence pointer', async () => {
    const { 'eosc-jurisdiction': _omitted, ...withoutJurisdiction } = GOVERNANCE;
    const error = await s3Refusal(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'nowhere.txt', Body: 'x', Metadata: withoutJurisdiction })),
    );
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['EOSC_MISSING_JURISDICTION', 400]);
    const pointer = error.$response?.headers['x-eosc-evidence-pointer'];
    expect(pointer).toMatch(/^eosc:\/\/evidence\//);
    expect((await tenant.events()).some((event) => event.outcome === 'refused' && event.evidencePointer === pointer)).toBe(true);
  });

  it('refuses a wrong secret with SignatureDoesNotMatch, and answers NotImplemented for what is not offered', async () => {
    const wrong = client('not-the-secret-at-all');
    const error = await s3Refusal(wrong.send(new ListBucketsCommand({})));
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['SignatureDoesNotMatch', 403]);
    expect(error.$response?.headers['x-eosc-evidence-pointer']).toMatch(/^eosc:\/\/evidence\/sha256:[0-9a-f]{64}$/);
    wrong.destroy();
    const response = await fetch(`${env.url}/s3/${bucket}?versioning`, { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=x' } });
    expect(response.status).toBe(400);
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    // us-east-1, the region signed for, is S3's empty LocationConstraint.
    expect([location.$metadata.httpStatusCode, location.LocationConstraint ?? '']).toEqual([200, '']);
    const nowhere = await s3Refusal(s3.send(new GetBucketLocationCommand({ Bucket: 'no-such-bucket-here' })));
    expect(nowhere.name).toBe('NoSuchBucket');
    const unsupported = await s3Refusal(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })));
    expect([unsupported.name, unsupported.$metadata.httpStatusCode]).toEqual(['NotImplemented', 501]);
  });
});
