import { createServer } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const CREATE_CREDENTIAL = `mutation($i: CreateS3CredentialInput!) {
  createS3Credential(input: $i) { secretAccessKey s3Credential { accessKeyId } }
}`;
const EVENTS = 'query($f: EventFilter) { events(filter: $f, first: 1000) { items { eventType outcome details } } }';

const GOVERNANCE = {
  'eosc-jurisdiction': 'DE',
  'eosc-retention-ttl': 'P0D',
  'eosc-classification': 'internal',
  'eosc-evidence-pointer': 'eosc://evidence/s3-port',
  'eosc-data-product-id': 'dp-port',
  'eosc-usage-policy-snapshot-id': 'pol-port',
  'eosc-consent-token-ref': 'consent-port',
};

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
  let port: number;
  const tenantId = uniqueId('s3port');
  const bucket = uniqueId('prt');

  beforeAll(async () => {
    env = await startTestStack({ env: { S3_PORT: '0' } });
    port = Number(new URL(env.stack.gateway.s3Url!).port);
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    const admin = await env.token('tenant-admin', tenantId);
    const created = await env.gqlAs<{ createS3Credential: { secretAccessKey: string; s3Credential: { accessKeyId: string } } }>(
      admin,
      CREATE_CREDENTIAL,
      { i: { tenantId, name: 'port', scopes: ['tenant.read', 'storage.read', 'storage.write', 'storage.delete'] } },
    );
    expect(created.errors).toBeUndefined();
    const { secretAccessKey, s3Credential } = created.data!.createS3Credential;
    s3 = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3Credential.accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
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
    const result = await env!.gql<{ events: { items: Array<{ eventType: string; outcome: string; details: Record<string, unknown> }> } }>(
      EVENTS,
      { f: { tenantId } },
    );
    expect(
      result.data!.events.items.some(
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
