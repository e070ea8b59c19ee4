import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DATA_S3_SCOPES, createS3Bucket, createS3Tenant, governanceMetadata, s3Refusal } from '../support/s3-tenant';
import type { ChainEvent } from '../support/s3-tenant';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const PART_SIZE = 5 * 1024 * 1024;

const GOVERNANCE = governanceMetadata('s3-multipart');

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** S3's ETag of an object uploaded in parts of `partSize`: the MD5 of the parts' MD5s, `-N`. */
function multipartEtag(whole: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let start = 0; start < whole.length; start += partSize)
    digests.push(
      createHash('md5')
        .update(whole.subarray(start, start + partSize))
        .digest(),
    );
  return `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}"`;
}

/** The governance metadata of a multipart upload: the integrity is the SHA-256 of the whole object. */
function governanceFor(whole: Buffer): Record<string, string> {
  return { ...GOVERNANCE, 'eosc-integrity': `sha256:${sha256(whole)}` };
}

describe('S3 multipart uploads with the AWS SDK', () => {
  let env: TestStack;
  let s3: S3Client;
  const tenantId = uniqueId('s3m');
  const bucket = uniqueId('mpu');
  /** `x-amz-content-sha256` of each signed request: which payload mode the SDK chose. */
  const payloadModes: string[] = [];

  let events: () => Promise<ChainEvent[]>;

  beforeAll(async () => {
    env = await startTestStack();
    const tenant = await createS3Tenant(env, tenantId, { name: 'multipart', scopes: DATA_S3_SCOPES });
    s3 = tenant.client;
    events = tenant.events;
    s3.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers;
        if (headers?.['x-amz-content-sha256']) payloadModes.push(headers['x-amz-content-sha256']);
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    await createS3Bucket(s3, bucket);
  });
  afterAll(async () => {
    s3?.destroy();
    await env?.stop();
  });

  it('uploads 3 parts of 5 MiB with lib-storage, reads the object back intact, with the completion evidence', async () => {
    const data = randomBytes(3 * PART_SIZE);
    const key = 'big/three parts.bin';
    const upload = new Upload({
      client: s3,
      partSize: PART_SIZE,
      queueSize: 2,
      params: { Bucket: bucket, Key: key, Body: data, ContentType: 'application/octet-stream', Metadata: governanceFor(data) },
    });
    const done = await upload.done();
    expect(done.ETag).toBe(multipartEtag(data, PART_SIZE));
    expect(payloadModes.every((mode) => /^[0-9a-f]{64}$/.test(mode))).toBe(true);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect([bytes.length, sha256(bytes)]).toEqual([data.length, sha256(data)]);
    expect(got.Metadata).toMatchObject({ 'eosc-jurisdiction': 'DE', 'eosc-integrity': `sha256:${sha256(data)}` });

    const completion = (await events()).find(
      (event) => event.eventType === 'object.put' && event.outcome === 'accepted' && event.details.object_key === key,
    );
    expect(completion?.details).toMatchObject({ origin: 'multipart', parts: 3, integrity: `sha256:${sha256(data)}` });
    expect(completion?.evidencePointer).toMatch(/^eosc:\/\/evidence\//);
  }, 30_000);

  it('uploads 100 MB in 20 parts', async () => {
    const data = randomBytes(100 * 1000 * 1000);
    const key = 'big/hundred.bin';
    const upload = new Upload({
      client: s3,
      partSize: PART_SIZE,
      queueSize: 4,
      params: { Bucket: bucket, Key: key, Body: data, Metadata: governanceFor(data) },
    });
    expect((await upload.done()).ETag).toBe(multipartEtag(data, PART_SIZE));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash('sha256');
    for await (const chunk of got.Body as Readable) hash.update(chunk as Buffer);
    expect([got.ContentLength, hash.digest('hex')]).toEqual([data.length, sha256(data)]);
    // A small range of the large object, then more requests on the same kept-alive connections:
    // cutting the object's stream short once the range is sent must not close the client's socket.
    for (const [start, end] of [
      [0, 1023],
      [50_000_000, 50_000_099],
    ] as const) {
      const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }));
      const bytes = Buffer.from(await ranged.Body!.transformToByteArray());
      expect([ranged.ContentRange, bytes.equals(data.subarray(start, end + 1))]).toEqual([`bytes ${start}-${end}/${data.length}`, true]);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.ContentLength).toBe(data.length);
    }
  }, 60_000);

  it('lists parts, refuses a wrong ETag and a wrong order, completes, then answers NoSuchUpload', async () => {
    const first = randomBytes(64 * 1024);
    const second = randomBytes(1000);
    const whole = Buffer.concat([first, second]);
    const key = 'manual.bin';
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: governanceFor(whole) }));
    const uploadId = created.UploadId!;
    expect(uploadId).toBeTruthy();
    const one = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: 1,
        Body: Readable.from([first]),
        ContentLength: first.length,
      }),
    );
    expect(payloadModes.at(-1)).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(one.ETag).toBe(`"${md5(first)}"`);
    const url = await getSignedUrl(s3, new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 2 }), {
      expiresIn: 300,
    });
    const presigned = await fetch(url, { method: 'PUT', body: second });
    expect([presigned.status, presigned.headers.get('etag')]).toEqual([200, `"${md5(second)}"`]);

    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    expect(listed.Parts?.map((part) => [part.PartNumber, part.ETag, part.Size])).toEqual([
      [1, `"${md5(first)}"`, first.length],
      [2, `"${md5(second)}"`, second.length],
    ]);
    const paged = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 1 }));
    expect([paged.IsTruncated, paged.NextPartNumberMarker, paged.Parts?.length]).toEqual([true, '1', 1]);

    const complete = (parts: Array<{ PartNumber: number; ETag: string }>) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    const wrongTag = await s3Refusal(
      complete([
        { PartNumber: 1, ETag: one.ETag! },
        { PartNumber: 2, ETag: `"${'0'.repeat(32)}"` },
      ]),
    );
    expect([wrongTag.name, wrongTag.$metadata.httpStatusCode]).toEqual(['InvalidPart', 400]);
    const wrongOrder = await s3Refusal(
      complete([
        { PartNumber: 2, ETag: `"${md5(second)}"` },
        { PartNumber: 1, ETag: one.ETag! },
      ]),
    );
    expect([wrongOrder.name, wrongOrder.$metadata.httpStatusCode]).toEqual(['InvalidPartOrder', 400]);

    const completed = await complete([
      { PartNumber: 1, ETag: one.ETag! },
      { PartNumber: 2, ETag: `"${md5(second)}"` },
    ]);
    expect([completed.ETag, completed.Key]).toEqual([multipartEtag(whole, first.length), key]);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(whole));
    const gone = await s3Refusal(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })));
    expect([gone.name, gone.$metadata.httpStatusCode]).toEqual(['NoSuchUpload', 404]);
  });

  it('aborts an upload with its evidence; the upload is then NoSuchUpload', async () => {
    const part = randomBytes(2048);
    const key = 'aborted.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: governanceFor(part) }));
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: part }));
    const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(aborted.$metadata.httpStatusCode).toBe(204);
    const listed = await s3Refusal(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId })));
    expect([listed.name, listed.$metadata.httpStatusCode]).toEqual(['NoSuchUpload', 404]);
    const late = await s3Refusal(s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: part })));
    expect(late.name).toBe('NoSuchUpload');
    const again = await s3Refusal(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })));
    expect(again.name).toBe('NoSuchUpload');
    const abort = (await events()).find((event) => event.eventType === 'object.multipart.abort' && event.details.upload_id === UploadId);
    expect(abort?.details).toMatchObject({ object_key: key, parts: 1 });
  });

  it("without a declared integrity, takes the parts whose payload the signature covers and refuses an unsigned one; the object's integrity is the parts' SHA-256", async () => {
    const parts = [randomBytes(PART_SIZE), randomBytes(1000)];
    const whole = Buffer.concat(parts);
    const key = 'undeclared.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: GOVERNANCE }));
    // An UNSIGNED-PAYLOAD part vouches for nothing: refused with evidence before its bytes are stored.
    const unsigned = new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: parts[0] });
    unsigned.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build' },
    );
    const refused = await s3Refusal(s3.send(unsigned));
    expect([refused.name, refused.$metadata.httpStatusCode]).toEqual(['EOSC_MISSING_INTEGRITY', 400]);
    expect(refused.$response?.headers['x-eosc-evidence-pointer']).toMatch(/^eosc:\/\/evidence\//);
    expect((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }))).Parts ?? []).toEqual([]);

    const etags: string[] = [];
    for (const [index, bytes] of parts.entries()) {
      const uploaded = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: bytes }));
      etags.push(uploaded.ETag!);
    }
    expect(payloadModes.at(-1)).toBe(sha256(parts[1]!));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.Metadata?.['eosc-integrity']).toBe(`sha256:${sha256(whole)}`);
    const put = (await events()).find(
      (event) => event.eventType === 'object.put' && event.outcome === 'accepted' && event.details.object_key === key,
    );
    expect(put?.details).toMatchObject({ integrity: `sha256:${sha256(whole)}`, integrity_source: 'the SHA-256 declared by each part' });
  }, 30_000);
});
