import { createServer } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DATA_S3_SCOPES, createS3Tenant, governanceMetadata } from '../support/s3-tenant';
import type { S3Tenant } from '../support/s3-tenant';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const GOVERNANCE = governanceMetadata('port', { 'eosc-retention-ttl': 'P0D' });

/** Whether something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

describe('S3 endpoint on its own port (S3_PORT)', () => {
  let env: TestStack | undefined;
  let s3: S3Client;
  let tenant: S3Tenant;
  let port: number;
  const tenantId = uniqueId('s3port');
  const bucket = uniqueId('prt');

  beforeAll(async () => {
    env = await startTestStack({ env: { S3_PORT: '0' } });
    port = Number(new URL(env.stack.gateway.s3Url!).port);
    tenant = await createS3Tenant(env, tenantId, { name: 'port', scopes: DATA_S3_SCOPES, endpoint: `http://127.0.0.1:${port}` });
    s3 = tenant.client;
  });
  afterAll(async () => {
    s3?.destroy();
    await env?.stop();
  });

  it('puts, lists and gets an object at the bare root of the port, with its evidence', async () => {
    expect(port).not.toBe(Number(new URL(env!.url).port));
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'DE' as never } }));
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt', Body: 'hello port', Metadata: GOVERNANCE }));
    expect(put.$metadata.httpStatusCode).toBe(200);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dir/' }));
    expect(listed.Contents?.map((item) => item.Key)).toEqual(['dir/hello.txt']);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello port');
    expect(got.Metadata).toMatchObject({ 'eosc-jurisdiction': 'DE' });
    expect(
      (await tenant.events()).some(
        (event) => event.eventType === 'object.put' && event.outcome === 'accepted' && event.details.object_key === 'dir/hello.txt',
      ),
    ).toBe(true);
  });

  it('closes the port when the stack stops', async () => {
    expect(await accepts(port)).toBe(true);
    s3.destroy();
    await env!.stop();
    env = undefined;
    expect(await accepts(port)).toBe(false);
  });
});
