// ListObjectVersions paged with key and version-id markers, ListObjects (v1) with markers and
// ListObjectsV2 with start-after, and UploadPartCopy (whole sources, `x-amz-copy-source-range`,
// the `x-amz-copy-source-if-*` conditions, another tenant's source), driven with the AWS SDK
// against a running stack.
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { ListObjectVersionsCommandOutput } from '@aws-sdk/client-s3';
import { createS3Tenant, governanceMetadata, s3Refusal } from '../support/s3-tenant';
import type { S3Tenant } from '../support/s3-tenant';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

type Listed = [key: string, versionId: string, latest: boolean, deleteMarker: boolean];

/** Versions and delete markers of one page, in the order S3 lists them (key, then newest first). */
function listed(page: ListObjectVersionsCommandOutput, order: Map<string, number>): Listed[] {
  const all: Listed[] = [
    ...(page.Versions ?? []).map((v): Listed => [v.Key!, v.VersionId!, v.IsLatest!, false]),
    ...(page.DeleteMarkers ?? []).map((m): Listed => [m.Key!, m.VersionId!, m.IsLatest!, true]),
  ];
  return all.sort((a, b) => (a[0] === b[0] ? order.get(a[1])! - order.get(b[1])! : a[0] < b[0] ? -1 : 1));
}

describe('S3 listings with markers and UploadPartCopy with the AWS SDK', () => {
  let env: TestStack;
  let tenant: S3Tenant;
  let other: S3Tenant;
  const versioned = uniqueId('pgv');
  const plain = uniqueId('upc');
  const foreign = uniqueId('frn');
  const governance = governanceMetadata('s3-paging');

  beforeAll(async () => {
    env = await startTestStack();
    tenant = await createS3Tenant(env, uniqueId('s3p'));
    other = await createS3Tenant(env, uniqueId('s3o'));
    await tenant.client.send(
      new CreateBucketCommand({
        Bucket: versioned,
        ObjectLockEnabledForBucket: true,
        CreateBucketConfiguration: { LocationConstraint: 'DE' as never },
      }),
    );
    await tenant.client.send(new CreateBucketCommand({ Bucket: plain, CreateBucketConfiguration: { LocationConstraint: 'DE' as never } }));
    await other.client.send(new CreateBucketCommand({ Bucket: foreign, CreateBucketConfiguration: { LocationConstraint: 'DE' as never } }));
  });

  afterAll(async () => {
    tenant?.client.destroy();
    other?.client.destroy();
    await env?.stop();
  });

  // No retention in force, so the versioned bucket's keys can be given delete markers.
  async function put(client: S3Tenant['client'], bucket: string, key: string, body: string) {
    return client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: { ...governance, 'eosc-retention-ttl': 'P0D' } }),
    );
  }

  it('pages through every version with NextKeyMarker / NextVersionIdMarker, delete markers and deleted keys included', async () => {
    // newest-first position of every version id, to sort each page the way S3 lists it
    const order = new Map<string, number>();
    let position = 0;
    const remember = (versionId: string | undefined) => order.set(versionId!, 1_000 - position++);
    for (const body of ['a1', 'a2', 'a3']) remember((await put(tenant.client, versioned, 'p/a', body)).VersionId);
    remember((await put(tenant.client, versioned, 'p/b', 'b1')).VersionId);
    remember((await tenant.client.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'p/b' }))).VersionId);
    for (const body of ['c1', 'c2']) remember((await put(tenant.client, versioned, 'p/c', body)).VersionId);
    await put(tenant.client, versioned, 'q/outside', 'x');

    const whole = await tenant.client.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: 'p/' }));
    expect(whole.IsTruncated).toBe(false);
    const expected = listed(whole, order);
    expect(expected.map(([key, , latest, marker]) => [key, latest, marker])).toEqual([
      ['p/a', true, false],
      ['p/a', false, false],
      ['p/a', false, false],
      ['p/b', true, true],
      ['p/b', false, false],
      ['p/c', true, false],
      ['p/c', false, false],
    ]);

    const paged: Listed[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await tenant.client.send(
        new ListObjectVersionsCommand({
          Bucket: versioned,
          Prefix: 'p/',
          MaxKeys: 2,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      paged.push(...listed(page, order));
      if (!page.IsTruncated) break;
      expect(page.NextKeyMarker).toBeDefined();
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    expect(paged).toEqual(expected);

    // A key marker alone resumes after every version of that key.
    const afterA = await tenant.client.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: 'p/', KeyMarker: 'p/a' }));
    expect(listed(afterA, order)).toEqual(expected.slice(3));
    expect(afterA.KeyMarker).toBe('p/a');

    const unknown = await s3Refusal(
      tenant.client.send(new ListObjectVersionsCommand({ Bucket: versioned, KeyMarker: 'p/a', VersionIdMarker: 'no-such-version' })),
    );
    expect([unknown.name, unknown.$metadata.httpStatusCode]).toEqual(['InvalidArgument', 400]);
    const alone = await s3Refusal(
      tenant.client.send(new ListObjectVersionsCommand({ Bucket: versioned, VersionIdMarker: expected[0]![1] })),
    );
    expect([alone.name, alone.$metadata.httpStatusCode]).toEqual(['InvalidArgument', 400]);
  });

  it('groups versions into common prefixes with a delimiter, each once across pages', async () => {
    for (const [key, body] of [
      ['d/x/1.txt', 'one'],
      ['d/x/1.txt', 'one again'],
      ['d/x/2.txt', 'two'],
      ['d/y.txt', 'y'],
      ['d/y.txt', 'y again'],
      ['d/z/3.txt', 'three'],
    ] as const) {
      await put(tenant.client, versioned, key, body);
    }
    const whole = await tenant.client.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: 'd/', Delimiter: '/' }));
    expect(whole.CommonPrefixes?.map((common) => common.Prefix)).toEqual(['d/x/', 'd/z/']);
    expect(whole.Versions?.map((version) => version.Key)).toEqual(['d/y.txt', 'd/y.txt']);
    expect(whole.IsTruncated).toBe(false);

    const prefixes: string[] = [];
    const keys: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await tenant.client.send(
        new ListObjectVersionsCommand({
          Bucket: versioned,
          Prefix: 'd/',
          Delimiter: '/',
          MaxKeys: 1,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      prefixes.push(...(page.CommonPrefixes ?? []).map((common) => common.Prefix!));
      keys.push(...(page.Versions ?? []).map((version) => version.Key!));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    expect(prefixes).toEqual(['d/x/', 'd/z/']);
    expect(keys).toEqual(['d/y.txt', 'd/y.txt']);
  });

  it('pages ListObjects (v1) with marker and NextMarker, common prefixes once, and ListObjectsV2 from start-after', async () => {
    const keys = ['l/a.txt', 'l/b/1.txt', 'l/b/2.txt', 'l/c.txt', 'l/d/1.txt', 'l/e.txt'];
    for (const key of keys) await put(tenant.client, plain, key, key);
    const all = await tenant.client.send(new ListObjectsCommand({ Bucket: plain, Prefix: 'l/' }));
    expect(all.Contents?.map((item) => item.Key)).toEqual(keys);
    expect(all.IsTruncated).toBe(false);

    const seen: string[] = [];
    let marker: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await tenant.client.send(
        new ListObjectsCommand({ Bucket: plain, Prefix: 'l/', Delimiter: '/', MaxKeys: 2, Marker: marker }),
      );
      seen.push(...(page.Contents ?? []).map((item) => item.Key!), ...(page.CommonPrefixes ?? []).map((common) => common.Prefix!));
      if (!page.IsTruncated) break;
      expect(page.NextMarker).toBeDefined();
      marker = page.NextMarker;
    }
    expect(seen.sort()).toEqual(['l/a.txt', 'l/b/', 'l/c.txt', 'l/d/', 'l/e.txt']);

    const after = await tenant.client.send(new ListObjectsV2Command({ Bucket: plain, Prefix: 'l/', StartAfter: 'l/b/2.txt' }));
    expect(after.Contents?.map((item) => item.Key)).toEqual(['l/c.txt', 'l/d/1.txt', 'l/e.txt']);
    expect(after.StartAfter).toBe('l/b/2.txt');
    const fromMarker = await tenant.client.send(new ListObjectsCommand({ Bucket: plain, Prefix: 'l/', Marker: 'l/d/1.txt' }));
    expect(fromMarker.Contents?.map((item) => item.Key)).toEqual(['l/e.txt']);
  });

  it('reads the one version of a key in an unversioned bucket by the id its PUT answered, and no other', async () => {
    const written = await put(tenant.client, plain, 'one/version.txt', 'only version');
    expect(written.VersionId).toBeDefined();
    const read = await tenant.client.send(new GetObjectCommand({ Bucket: plain, Key: 'one/version.txt', VersionId: written.VersionId }));
    expect([await read.Body!.transformToString(), read.VersionId]).toEqual(['only version', written.VersionId]);
    const head = await tenant.client.send(new HeadObjectCommand({ Bucket: plain, Key: 'one/version.txt', VersionId: written.VersionId }));
    expect(head.VersionId).toBe(written.VersionId);
    const other = await s3Refusal(
      tenant.client.send(new GetObjectCommand({ Bucket: plain, Key: 'one/version.txt', VersionId: 'not-this-one' })),
    );
    expect([other.name, other.$metadata.httpStatusCode]).toEqual(['NoSuchVersion', 404]);
    const otherHead = await s3Refusal(
      tenant.client.send(new HeadObjectCommand({ Bucket: plain, Key: 'one/version.txt', VersionId: 'not-this-one' })),
    );
    expect(otherHead.$metadata.httpStatusCode).toBe(404);
  });

  it('assembles an upload from copied parts: a range of one object and the whole of another', async () => {
    const first = 'The quick brown fox jumps over the lazy dog';
    const second = 'and keeps running';
    await put(tenant.client, plain, 'src/first.txt', first);
    await put(tenant.client, plain, 'src/second.txt', second);
    const expected = `${first.slice(4, 19)}${second}`;
    const upload = await tenant.client.send(
      new CreateMultipartUploadCommand({
        Bucket: plain,
        Key: 'dst/assembled.txt',
        Metadata: { ...governance, 'eosc-integrity': `sha256:${sha256(expected)}` },
      }),
    );
    const part1 = await tenant.client.send(
      new UploadPartCopyCommand({
        Bucket: plain,
        Key: 'dst/assembled.txt',
        UploadId: upload.UploadId,
        PartNumber: 1,
        CopySource: `${plain}/src/first.txt`,
        CopySourceRange: 'bytes=4-18',
      }),
    );
    const part2 = await tenant.client.send(
      new UploadPartCopyCommand({
        Bucket: plain,
        Key: 'dst/assembled.txt',
        UploadId: upload.UploadId,
        PartNumber: 2,
        CopySource: `${plain}/src/second.txt`,
      }),
    );
    expect(part1.CopyPartResult?.ETag).toMatch(/^"[0-9a-f]+"$/);
    expect(part2.CopyPartResult?.ETag).toMatch(/^"[0-9a-f]+"$/);
    await tenant.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: plain,
        Key: 'dst/assembled.txt',
        UploadId: upload.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: part1.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: part2.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    const read = await tenant.client.send(new GetObjectCommand({ Bucket: plain, Key: 'dst/assembled.txt' }));
    expect(await read.Body!.transformToString()).toBe(expected);
    // The assembled object keeps the governance of the upload, not of the sources.
    expect(read.Metadata?.['eosc-evidence-pointer']).toBe(governance['eosc-evidence-pointer']);
  });

  it("copies whole objects as parts of an upload started without the object's integrity (each source's integrity vouches), never a range", async () => {
    await put(tenant.client, plain, 'src/left.txt', 'left half, ');
    await put(tenant.client, plain, 'src/right.txt', 'right half');
    const key = 'dst/undeclared.txt';
    const upload = await tenant.client.send(new CreateMultipartUploadCommand({ Bucket: plain, Key: key, Metadata: governance }));
    const copyPart = (PartNumber: number, source: string, range?: string) =>
      tenant.client.send(
        new UploadPartCopyCommand({
          Bucket: plain,
          Key: key,
          UploadId: upload.UploadId,
          PartNumber,
          CopySource: `${plain}/${source}`,
          CopySourceRange: range,
        }),
      );
    const ranged = await s3Refusal(copyPart(1, 'src/left.txt', 'bytes=0-3'));
    expect([ranged.name, ranged.$metadata.httpStatusCode]).toEqual(['EOSC_MISSING_INTEGRITY', 400]);
    const parts = [await copyPart(1, 'src/left.txt'), await copyPart(2, 'src/right.txt')];
    await tenant.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: plain,
        Key: key,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: parts.map((part, index) => ({ PartNumber: index + 1, ETag: part.CopyPartResult!.ETag })) },
      }),
    );
    const read = await tenant.client.send(new GetObjectCommand({ Bucket: plain, Key: key }));
    expect(await read.Body!.transformToString()).toBe('left half, right half');
    expect(read.Metadata?.['eosc-integrity']).toBe(`sha256:${sha256('left half, right half')}`);
  });

  it("refuses a bad range, a failed copy-source condition and another tenant's source", async () => {
    await put(tenant.client, plain, 'src/cond.txt', 'conditional source');
    await put(other.client, foreign, 'secret.txt', 'not yours');
    const upload = await tenant.client.send(
      new CreateMultipartUploadCommand({
        Bucket: plain,
        Key: 'dst/refused.txt',
        Metadata: { ...governance, 'eosc-integrity': `sha256:${sha256('x')}` },
      }),
    );
    const copyPart = (extra: Partial<ConstructorParameters<typeof UploadPartCopyCommand>[0]>) =>
      tenant.client.send(
        new UploadPartCopyCommand({
          Bucket: plain,
          Key: 'dst/refused.txt',
          UploadId: upload.UploadId,
          PartNumber: 1,
          CopySource: `${plain}/src/cond.txt`,
          ...extra,
        }),
      );
    const form = await s3Refusal(copyPart({ CopySourceRange: 'bytes=5-' }));
    expect([form.name, form.$metadata.httpStatusCode]).toEqual(['InvalidArgument', 400]);
    const beyond = await s3Refusal(copyPart({ CopySourceRange: 'bytes=0-1000' }));
    expect([beyond.name, beyond.$metadata.httpStatusCode]).toEqual(['InvalidRange', 416]);
    const mismatch = await s3Refusal(copyPart({ CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"' }));
    expect([mismatch.name, mismatch.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    const unmodified = await s3Refusal(copyPart({ CopySourceIfUnmodifiedSince: new Date(Date.now() - 3_600_000) }));
    expect(unmodified.name).toBe('PreconditionFailed');
    const crossTenant = await s3Refusal(copyPart({ CopySource: `${foreign}/secret.txt` }));
    expect(crossTenant.$metadata.httpStatusCode).toBe(403);
    const noUpload = await s3Refusal(copyPart({ UploadId: 'no-such-upload' }));
    expect(noUpload.name).toBe('NoSuchUpload');

    // The same conditions on CopyObject.
    const copyMismatch = await s3Refusal(
      tenant.client.send(
        new CopyObjectCommand({ Bucket: plain, Key: 'dst/copied.txt', CopySource: `${plain}/src/cond.txt`, CopySourceIfNoneMatch: '*' }),
      ),
    );
    expect([copyMismatch.name, copyMismatch.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    const copied = await tenant.client.send(
      new CopyObjectCommand({
        Bucket: plain,
        Key: 'dst/copied.txt',
        CopySource: `${plain}/src/cond.txt`,
        CopySourceIfModifiedSince: new Date(Date.now() - 3_600_000),
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toBeDefined();
  });
});
