import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ListMultipartUploadsCommandOutput } from '@aws-sdk/client-s3';
import { chainEvents } from '../support/chain-events';
import { CREATE_BUCKET, storageClient } from '../support/storage-client';
import { DATA_S3_SCOPES, createS3Credential, createS3Tenant, governanceMetadata, s3Refusal } from '../support/s3-tenant';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const BUCKET = 'query($name: ID!) { bucket(name: $name) { name tenantId } }';

const GOVERNANCE = governanceMetadata('s3', { 'eosc-retention-ttl': 'P0D' });

function integrityOf(bytes: Buffer): Record<string, string> {
  return { ...GOVERNANCE, 'eosc-integrity': `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

describe('S3 DeleteBucket and ListMultipartUploads with the AWS SDK', () => {
  let env: TestStack;
  let s3: S3Client;
  let withoutDelete: S3Client;
  const tenantId = uniqueId('s3b');
  const otherTenantId = uniqueId('s3o');
  /** Headers of the last response the full-scope client received. */
  let lastHeaders: Record<string, string> = {};

  async function newBucket(client: S3Client = s3): Promise<string> {
    const name = uniqueId('bkt');
    await client.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'DE' as never } }));
    return name;
  }

  async function bucketExists(name: string): Promise<boolean> {
    const result = await env.gql<{ bucket: { name: string } | null }>(BUCKET, { name });
    expect(result.errors).toBeUndefined();
    return result.data!.bucket !== null;
  }

  async function startUpload(bucket: string, key: string): Promise<string> {
    const started = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: integrityOf(Buffer.from(key)) }));
    return started.UploadId!;
  }

  beforeAll(async () => {
    env = await startTestStack();
    s3 = (await createS3Tenant(env, tenantId, { name: 'all', scopes: DATA_S3_SCOPES })).client;
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(otherTenantId) })).errors).toBeUndefined();
    s3.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        lastHeaders = (result.response as { headers?: Record<string, string> }).headers ?? {};
        return result;
      },
      { step: 'deserialize', name: 'captureHeaders' },
    );
    withoutDelete = (
      await createS3Credential(env, tenantId, { name: 'no-delete', scopes: ['tenant.read', 'storage.read', 'storage.write'] })
    ).client;
  });
  afterAll(async () => {
    s3?.destroy();
    withoutDelete?.destroy();
    await env?.stop();
  });

  describe('DeleteBucket', () => {
    it('deletes an empty bucket (204), which is then gone, with storage.bucket.delete evidence in the chain', async () => {
      const bucket = await newBucket();
      const deleted = await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      expect(deleted.$metadata.httpStatusCode).toBe(204);
      const pointer = lastHeaders['x-eosc-evidence-pointer'];
      expect(pointer).toMatch(/^eosc:\/\/evidence\/sha256:[0-9a-f]{64}$/);
      const head = await s3Refusal(s3.send(new HeadBucketCommand({ Bucket: bucket })));
      expect([head.name, head.$metadata.httpStatusCode]).toEqual(['NotFound', 404]);
      expect(await bucketExists(bucket)).toBe(false);
      const event = (await chainEvents(env, tenantId)).find(
        (candidate) => candidate.eventType === 'storage.bucket.delete' && candidate.details.bucket === bucket,
      );
      expect(event).toMatchObject({
        outcome: 'accepted',
        evidencePointer: pointer,
        authoritySnapshotId: expect.stringMatching(/^authsnap:/),
        details: expect.objectContaining({ action: 'storage.bucket.delete', jurisdiction: 'DE', versioning: false }),
      });
    });

    it('refuses a bucket holding an object with BucketNotEmpty and evidence; emptied, it goes, and its name starts afresh', async () => {
      const bucket = await newBucket();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept.txt', Body: 'kept', Metadata: GOVERNANCE }));
      const error = await s3Refusal(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['BucketNotEmpty', 409]);
      const pointer = error.$response?.headers['x-eosc-evidence-pointer'];
      expect(pointer).toMatch(/^eosc:\/\/evidence\//);
      expect((await s3.send(new HeadBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode).toBe(200);
      const refused = (await chainEvents(env, tenantId)).find((event) => event.evidencePointer === pointer);
      expect(refused).toMatchObject({
        eventType: 'storage.bucket.delete',
        outcome: 'refused',
        refusalReasonCode: 'bucket_not_empty',
        details: expect.objectContaining({ bucket, object_versions: 1, open_uploads: 0 }),
      });

      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'kept.txt' }));
      expect((await s3.send(new DeleteBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode).toBe(204);
      await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'DE' as never } }));
      expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept.txt', Body: 'again', Metadata: GOVERNANCE }));
      expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((item) => item.Key)).toEqual(['kept.txt']);
    });

    it('refuses a versioned bucket that holds only a delete marker', async () => {
      const bucket = uniqueId('bkt');
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ObjectLockEnabledForBucket: true,
          CreateBucketConfiguration: { LocationConstraint: 'DE' as never },
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone.txt', Body: 'gone', Metadata: GOVERNANCE }));
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone.txt' }));
      expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
      const error = await s3Refusal(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['BucketNotEmpty', 409]);
      expect(await bucketExists(bucket)).toBe(true);
    });

    it('refuses a bucket whose only content is an open multipart upload; aborted, the bucket can go', async () => {
      const bucket = await newBucket();
      const uploadId = await startUpload(bucket, 'pending.bin');
      const error = await s3Refusal(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['BucketNotEmpty', 409]);
      expect(error.message).toMatch(/1 open multipart upload/);
      expect(await bucketExists(bucket)).toBe(true);
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'pending.bin', UploadId: uploadId }));
      expect((await s3.send(new DeleteBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode).toBe(204);
    });

    it('answers NoSuchBucket for a bucket that does not exist', async () => {
      const error = await s3Refusal(s3.send(new DeleteBucketCommand({ Bucket: uniqueId('none') })));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['NoSuchBucket', 404]);
    });

    it('refuses a credential without storage.delete with AccessDenied, and keeps the bucket', async () => {
      const bucket = await newBucket();
      const error = await s3Refusal(withoutDelete.send(new DeleteBucketCommand({ Bucket: bucket })));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
      expect(error.$response?.headers['x-eosc-evidence-pointer']).toMatch(/^eosc:\/\/evidence\//);
      expect(await bucketExists(bucket)).toBe(true);
    });

    it("cannot delete another tenant's bucket", async () => {
      const theirs = uniqueId('bkt');
      const created = await env.gql(CREATE_BUCKET, { input: { name: theirs, tenantId: otherTenantId, jurisdiction: 'DE' } });
      expect(created.errors).toBeUndefined();
      const error = await s3Refusal(s3.send(new DeleteBucketCommand({ Bucket: theirs })));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
      expect(await bucketExists(theirs)).toBe(true);
      expect(
        (await chainEvents(env, otherTenantId)).some(
          (event) => event.eventType === 'storage.bucket.delete' && event.outcome === 'accepted',
        ),
      ).toBe(false);
    });
  });

  it('refuses the commit of a PUT begun before its bucket was deleted, so a new bucket of that name starts empty', async () => {
    const bucket = await newBucket();
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const chunks = 25;
    const hash = createHash('sha256');
    for (let i = 0; i < chunks; i += 1) hash.update(chunk);
    let reachedGate!: () => void;
    const gateReached = new Promise<void>((resolve) => {
      reachedGate = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Byte mode with no read-ahead: when the last chunk is asked for, the data plane has read
    // tens of MiB, so it checked the bucket long before.
    const body = Readable.from(
      (async function* () {
        for (let i = 0; i < chunks; i += 1) {
          if (i === chunks - 1) {
            reachedGate();
            await released;
          }
          yield chunk;
        }
      })(),
      { objectMode: false, highWaterMark: 1 },
    );
    const client = storageClient(env, await env.token('tenant-admin', tenantId));
    const putting = client.put(bucket, 'late.bin', body, {
      ...Object.fromEntries(Object.entries(GOVERNANCE).map(([name, value]) => [`x-${name}`, value])),
      'x-eosc-integrity': `sha256:${hash.digest('hex')}`,
      'content-type': 'application/octet-stream',
      'content-length': String(chunk.length * chunks),
    });
    await gateReached;
    expect((await s3.send(new DeleteBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode).toBe(204);
    release();
    const put = await putting;
    // The write's commit holds the bucket row: the bucket is gone, so nothing lands.
    expect(put.status).toBe(404);
    const theirs = await env.gql(CREATE_BUCKET, { input: { name: bucket, tenantId: otherTenantId, jurisdiction: 'DE' } });
    expect(theirs.errors).toBeUndefined();
    const listed = await env.gql<{ bucket: { objects: { items: unknown[] } } }>(
      'query($name: ID!) { bucket(name: $name) { objects(first: 10) { items { key } } } }',
      { name: bucket },
    );
    expect(listed.data!.bucket.objects.items).toEqual([]);
  });

  describe('ListMultipartUploads', () => {
    let bucket: string;
    /** The open uploads, in the order the listing must return them. */
    const open: Array<{ key: string; uploadId: string }> = [];

    const listed = (page: ListMultipartUploadsCommandOutput) =>
      (page.Uploads ?? []).map((upload) => ({ key: upload.Key, uploadId: upload.UploadId }));

    beforeAll(async () => {
      bucket = await newBucket();
      // Created in listing order: by key, and two uploads of one key in initiation order.
      for (const key of ['docs/a.bin', 'docs/a.bin', 'docs/b.bin']) {
        open.push({ key, uploadId: await startUpload(bucket, key) });
        await sleep(5);
      }
      open.push({ key: 'logs/c.bin', uploadId: await startUpload(bucket, 'logs/c.bin') });
      const body = Buffer.from('completed');
      const completing = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'docs/done.bin', Metadata: integrityOf(body) }),
      );
      const part = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'docs/done.bin', UploadId: completing.UploadId, PartNumber: 1, Body: body }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'docs/done.bin',
          UploadId: completing.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      const aborted = await startUpload(bucket, 'docs/aborted.bin');
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'docs/aborted.bin', UploadId: aborted }));
    });

    it('lists the open uploads by key and initiation, not the completed or aborted ones', async () => {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(page.Bucket).toBe(bucket);
      expect(page.IsTruncated).toBe(false);
      expect(page.MaxUploads).toBe(1000);
      expect(listed(page)).toEqual(open);
      for (const upload of page.Uploads!) {
        expect(upload.Initiated).toBeInstanceOf(Date);
        expect(Math.abs(upload.Initiated!.getTime() - Date.now())).toBeLessThan(5 * 60_000);
        expect(upload.StorageClass).toBe('STANDARD');
      }
      expect(page.Uploads![0]!.Initiated!.getTime()).toBeLessThanOrEqual(page.Uploads![1]!.Initiated!.getTime());
    });

    it('honours the prefix', async () => {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'docs/' }));
      expect(page.Prefix).toBe('docs/');
      expect(listed(page)).toEqual(open.slice(0, 3));
      const none = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'nothing/' }));
      expect(none.Uploads ?? []).toEqual([]);
    });

    it('pages with MaxUploads 1 over three uploads, following NextKeyMarker and NextUploadIdMarker', async () => {
      const seen: Array<{ key: string | undefined; uploadId: string | undefined }> = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      const truncation: boolean[] = [];
      for (let page = 0; page < 5; page += 1) {
        const result = await s3.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: 'docs/',
            MaxUploads: 1,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        expect(result.MaxUploads).toBe(1);
        expect(result.KeyMarker ?? '').toBe(keyMarker ?? '');
        seen.push(...listed(result));
        truncation.push(result.IsTruncated!);
        if (!result.IsTruncated) break;
        keyMarker = result.NextKeyMarker;
        uploadIdMarker = result.NextUploadIdMarker;
      }
      expect(seen).toEqual(open.slice(0, 3));
      expect(truncation).toEqual([true, true, false]);
      // A key marker alone starts after every upload of that key.
      const afterKey = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: 'docs/a.bin' }));
      expect(listed(afterKey)).toEqual(open.slice(2));
    });

    it('refuses max-uploads outside 1..1000, and an upload-id-marker that names no upload of the key', async () => {
      const tooMany = await s3Refusal(s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, MaxUploads: 1001 })));
      expect([tooMany.name, tooMany.$metadata.httpStatusCode]).toEqual(['InvalidArgument', 400]);
      const unknown = await s3Refusal(
        s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: 'docs/b.bin', UploadIdMarker: open[0]!.uploadId })),
      );
      expect([unknown.name, unknown.$metadata.httpStatusCode]).toEqual(['InvalidArgument', 400]);
      const missing = await s3Refusal(s3.send(new ListMultipartUploadsCommand({ Bucket: uniqueId('none') })));
      expect([missing.name, missing.$metadata.httpStatusCode]).toEqual(['NoSuchBucket', 404]);
    });
  });
});
