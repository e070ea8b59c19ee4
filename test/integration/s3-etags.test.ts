import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { DATA_S3_SCOPES, createS3Bucket, createS3Tenant, governanceMetadata, s3Refusal } from '../support/s3-tenant';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const GOVERNANCE = governanceMetadata('etag');

const md5 = (bytes: Buffer | string): Buffer => createHash('md5').update(bytes).digest();
const md5Hex = (bytes: Buffer | string): string => md5(bytes).toString('hex');
const sha256Hex = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

describe('S3 ETags as S3 computes them (MD5; MD5 of the parts MD5s with -N)', () => {
  let env: TestStack;
  let s3: S3Client;
  const tenantId = uniqueId('s3e');
  const bucket = uniqueId('etag');
  const versioned = uniqueId('etagv');

  beforeAll(async () => {
    env = await startTestStack();
    s3 = (await createS3Tenant(env, tenantId, { name: 'etags', scopes: DATA_S3_SCOPES })).client;
    await createS3Bucket(s3, bucket);
    await createS3Bucket(s3, versioned, { objectLock: true });
  });
  afterAll(async () => {
    s3?.destroy();
    await env?.stop();
  });

  it('answers the quoted MD5 of a PUT body on PUT, GET, HEAD, ListObjectsV2, ListObjectVersions and conditional reads', async () => {
    const body = Buffer.from('an object whose ETag is its MD5 '.repeat(50));
    const etag = `"${md5Hex(body)}"`;
    const key = 'single/one.txt';
    const put = await s3.send(new PutObjectCommand({ Bucket: versioned, Key: key, Body: body, Metadata: GOVERNANCE }));
    expect(put.ETag).toBe(etag);

    const got = await s3.send(new GetObjectCommand({ Bucket: versioned, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(got.ETag).toBe(etag);
    // S3's ETag is the ETag, not one more piece of user metadata.
    expect(Object.keys(got.Metadata ?? {}).some((name) => name.includes('etag'))).toBe(false);
    const head = await s3.send(new HeadObjectCommand({ Bucket: versioned, Key: key }));
    expect(head.ETag).toBe(etag);
    const byVersion = await s3.send(new HeadObjectCommand({ Bucket: versioned, Key: key, VersionId: put.VersionId }));
    expect(byVersion.ETag).toBe(etag);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: versioned, Prefix: 'single/' }));
    expect(listed.Contents?.map((item) => [item.Key, item.ETag])).toEqual([[key, etag]]);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: 'single/' }));
    expect(versions.Versions?.map((version) => [version.Key, version.VersionId, version.ETag])).toEqual([[key, put.VersionId, etag]]);

    const matched = await s3.send(new GetObjectCommand({ Bucket: versioned, Key: key, IfMatch: etag }));
    expect([matched.$metadata.httpStatusCode, matched.ETag]).toEqual([200, etag]);
    await matched.Body!.transformToByteArray();
    const headMatched = await s3.send(new HeadObjectCommand({ Bucket: versioned, Key: key, IfMatch: etag }));
    expect(headMatched.$metadata.httpStatusCode).toBe(200);
    // The SHA-256 the data plane also knows the object by is not its S3 ETag.
    for (const wrong of [`"${sha256Hex(body)}"`, `"${md5Hex('something else')}"`]) {
      const failed = await s3Refusal(s3.send(new GetObjectCommand({ Bucket: versioned, Key: key, IfMatch: wrong })));
      expect([failed.name, failed.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    }
    const notModified = await s3Refusal(s3.send(new GetObjectCommand({ Bucket: versioned, Key: key, IfNoneMatch: etag })));
    expect(notModified.$metadata.httpStatusCode).toBe(304);
  });

  it('answers a part its MD5 and the completed object the MD5 of the parts MD5s with -N, which copies keep', async () => {
    const parts = [randomBytes(70 * 1024), randomBytes(33 * 1024 + 7), randomBytes(1000)];
    const whole = Buffer.concat(parts);
    const key = 'multi/three.bin';
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        Metadata: { ...GOVERNANCE, 'eosc-integrity': `sha256:${sha256Hex(whole)}` },
      }),
    );
    const uploadId = created.UploadId!;
    const uploaded: Array<{ PartNumber: number; ETag: string }> = [];
    for (const [index, bytes] of parts.entries()) {
      const part = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: bytes }),
      );
      expect(part.ETag).toBe(`"${md5Hex(bytes)}"`);
      uploaded.push({ PartNumber: index + 1, ETag: part.ETag! });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    expect(listed.Parts?.map((part) => [part.PartNumber, part.ETag])).toEqual(uploaded.map((part) => [part.PartNumber, part.ETag]));

    const expected = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-3"`;
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: uploaded } }),
    );
    expect(completed.ETag).toBe(expected);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect([head.ETag, head.ContentLength]).toEqual([expected, whole.length]);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect([got.ETag, sha256Hex(Buffer.from(await got.Body!.transformToByteArray()))]).toEqual([expected, sha256Hex(whole)]);
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'multi/' }));
    expect(listing.Contents?.map((item) => [item.Key, item.ETag])).toEqual([[key, expected]]);

    const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'multi/copy.bin', CopySource: `${bucket}/${key}` }));
    expect(copied.CopyObjectResult?.ETag).toBe(expected);
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multi/copy.bin' }))).ETag).toBe(expected);

    const single = Buffer.from('copied with its MD5');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/src.txt', Body: single, Metadata: GOVERNANCE }));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/dst.txt', CopySource: `${bucket}/copy/src.txt` }));
    expect(copy.CopyObjectResult?.ETag).toBe(`"${md5Hex(single)}"`);
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/dst.txt' }))).ETag).toBe(`"${md5Hex(single)}"`);
  });

  it('checks Content-MD5: BadDigest when it does not match (nothing stored), InvalidDigest when it is no MD5', async () => {
    const body = Buffer.from('the bytes as sent');
    const key = 'digest/put.txt';
    const mismatch = await s3Refusal(
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentMD5: md5('other bytes').toString('base64'),
          Metadata: GOVERNANCE,
        }),
      ),
    );
    expect([mismatch.name, mismatch.$metadata.httpStatusCode]).toEqual(['BadDigest', 400]);
    // A refused governed write: its refusal is in the evidence chain.
    expect(mismatch.$response?.headers['x-eosc-evidence-pointer']).toMatch(/^eosc:\/\/evidence\//);
    const missing = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    expect(missing.$metadata.httpStatusCode).toBe(404);

    const invalid = await s3Refusal(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentMD5: 'bm90IGFuIG1kNQ==', Metadata: GOVERNANCE })),
    );
    expect([invalid.name, invalid.$metadata.httpStatusCode]).toEqual(['InvalidDigest', 400]);
    expect((await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).$metadata.httpStatusCode).toBe(404);

    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentMD5: md5(body).toString('base64'), Metadata: GOVERNANCE }),
    );
    expect(put.ETag).toBe(`"${md5Hex(body)}"`);

    const partKey = 'digest/multi.bin';
    const part = randomBytes(4096);
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: partKey,
        Metadata: { ...GOVERNANCE, 'eosc-integrity': `sha256:${sha256Hex(part)}` },
      }),
    );
    const badPart = await s3Refusal(
      s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: partKey,
          UploadId,
          PartNumber: 1,
          Body: part,
          ContentMD5: md5('not the part').toString('base64'),
        }),
      ),
    );
    expect([badPart.name, badPart.$metadata.httpStatusCode]).toEqual(['BadDigest', 400]);
    expect((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: partKey, UploadId }))).Parts ?? []).toEqual([]);
    const goodPart = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: partKey,
        UploadId,
        PartNumber: 1,
        Body: part,
        ContentMD5: md5(part).toString('base64'),
      }),
    );
    expect(goodPart.ETag).toBe(`"${md5Hex(part)}"`);
  });
});
