import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const CREATE_CREDENTIAL = `mutation($i: CreateS3CredentialInput!) {
  createS3Credential(input: $i) { secretAccessKey s3Credential { accessKeyId } }
}`;
const EVENTS = 'query($f: EventFilter) { events(filter: $f, first: 1000) { items { eventType outcome evidencePointer details } } }';

const GOVERNANCE = {
  'eosc-jurisdiction': 'DE',
  'eosc-retention-ttl': 'P1D',
  'eosc-classification': 'internal',
  'eosc-evidence-pointer': 'eosc://evidence/s3-lock-test',
  'eosc-data-product-id': 'dp-s3-lock',
  'eosc-usage-policy-snapshot-id': 'pol-s3-lock',
  'eosc-consent-token-ref': 'consent-s3-lock',
};

interface ChainEvent {
  eventType: string;
  outcome: string;
  evidencePointer: string;
  details: Record<string, unknown>;
}

async function refusal(promise: Promise<unknown>): Promise<S3ServiceException> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof S3ServiceException)) throw new Error(`expected an S3 service error, got ${String(error)}`);
  return error;
}

describe('S3 object lock, legal hold and versions with the AWS SDK', () => {
  let env: TestStack;
  let s3: S3Client;
  const tenantId = uniqueId('s3l');
  const plain = uniqueId('lck');
  const versioned = uniqueId('ver');

  async function events(): Promise<ChainEvent[]> {
    const result = await env.gql<{ events: { items: ChainEvent[] } }>(EVENTS, { f: { tenantId } });
    return result.data!.events.items;
  }

  beforeAll(async () => {
    env = await startTestStack();
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    const admin = await env.token('tenant-admin', tenantId);
    const created = await env.gqlAs<{ createS3Credential: { secretAccessKey: string; s3Credential: { accessKeyId: string } } }>(
      admin,
      CREATE_CREDENTIAL,
      {
        i: {
          tenantId,
          name: 'lock',
          scopes: ['tenant.read', 'storage.read', 'storage.write', 'storage.delete', 'storage.govern'],
        },
      },
    );
    expect(created.errors).toBeUndefined();
    const { secretAccessKey, s3Credential } = created.data!.createS3Credential;
    s3 = new S3Client({
      endpoint: `${env.url}/s3`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3Credential.accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: plain, CreateBucketConfiguration: { LocationConstraint: 'DE' as never } }));
    await s3.send(
      new CreateBucketCommand({
        Bucket: versioned,
        ObjectLockEnabledForBucket: true,
        CreateBucketConfiguration: { LocationConstraint: 'DE' as never },
      }),
    );
  });
  afterAll(async () => {
    s3?.destroy();
    await env?.stop();
  });

  it('reads versioning and refuses to change it', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: versioned }))).Status).toBe('Enabled');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: plain }))).Status).toBeUndefined();
    const kept = await s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
    expect(kept.$metadata.httpStatusCode).toBe(200);
    const change = await refusal(
      s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Suspended' } })),
    );
    expect([change.name, change.$metadata.httpStatusCode]).toEqual(['NotImplemented', 501]);
    const missing = await refusal(s3.send(new GetBucketVersioningCommand({ Bucket: 'no-such-bucket-here' })));
    expect(missing.name).toBe('NoSuchBucket');
  });

  it('reads the object lock configuration', async () => {
    const configuration = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: plain }));
    expect(configuration.ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');
    expect(configuration.ObjectLockConfiguration?.Rule).toBeUndefined();
  });

  it('puts and gets a retention, refuses to shorten it and refuses a delete while it holds', async () => {
    const key = 'locked/report.txt';
    await s3.send(new PutObjectCommand({ Bucket: plain, Key: key, Body: 'retained', Metadata: GOVERNANCE }));
    const first = await s3.send(new GetObjectRetentionCommand({ Bucket: plain, Key: key }));
    expect(first.Retention?.Mode).toBe('COMPLIANCE');
    expect(first.Retention?.RetainUntilDate?.getTime() ?? 0).toBeGreaterThan(Date.now());

    const until = new Date(Date.now() + 3 * 86_400_000);
    until.setUTCMilliseconds(0);
    const put = await s3.send(
      new PutObjectRetentionCommand({ Bucket: plain, Key: key, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: until } }),
    );
    expect(put.$metadata.httpStatusCode).toBe(200);
    const read = await s3.send(new GetObjectRetentionCommand({ Bucket: plain, Key: key }));
    expect(read.Retention).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: until });

    const wrongMode = await refusal(
      s3.send(new PutObjectRetentionCommand({ Bucket: plain, Key: key, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } })),
    );
    expect([wrongMode.name, wrongMode.$metadata.httpStatusCode]).toEqual(['InvalidRequest', 400]);
    const shorter = await refusal(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket: plain,
          Key: key,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 3_600_000) },
        }),
      ),
    );
    expect([shorter.name, shorter.$metadata.httpStatusCode]).toEqual(['EOSC_OBJECT_LOCKED', 403]);

    const deleted = await refusal(s3.send(new DeleteObjectCommand({ Bucket: plain, Key: key })));
    expect([deleted.name, deleted.$metadata.httpStatusCode]).toEqual(['EOSC_OBJECT_LOCKED', 403]);
    const pointer = deleted.$response?.headers['x-eosc-evidence-pointer'];
    expect(pointer).toMatch(/^eosc:\/\/evidence\//);
    expect((await s3.send(new HeadObjectCommand({ Bucket: plain, Key: key }))).$metadata.httpStatusCode).toBe(200);

    const chain = await events();
    const refused = chain.find((event) => event.evidencePointer === pointer);
    expect(refused).toMatchObject({ eventType: 'object.delete', outcome: 'refused' });
    expect(refused!.details).toMatchObject({ object_key: key, legal_hold: false, retention_until: until.toISOString() });
    const changes = chain.filter((event) => event.eventType === 'object.retention.change');
    expect(changes.some((event) => event.outcome === 'accepted')).toBe(true);
    expect(changes.some((event) => event.outcome === 'refused')).toBe(true);

    const missing = await refusal(s3.send(new GetObjectRetentionCommand({ Bucket: plain, Key: 'no/such/key' })));
    expect([missing.name, missing.$metadata.httpStatusCode]).toEqual(['NoSuchKey', 404]);
  });

  it('places a legal hold, refuses a delete while it is on, and releases it', async () => {
    const key = 'held/evidence.txt';
    await s3.send(
      new PutObjectCommand({ Bucket: plain, Key: key, Body: 'held', Metadata: { ...GOVERNANCE, 'eosc-retention-ttl': 'P0D' } }),
    );
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: key }))).LegalHold?.Status).toBe('OFF');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: plain, Key: key, LegalHold: { Status: 'ON' } }));
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: key }))).LegalHold?.Status).toBe('ON');

    const deleted = await refusal(s3.send(new DeleteObjectCommand({ Bucket: plain, Key: key })));
    expect([deleted.name, deleted.$metadata.httpStatusCode]).toEqual(['EOSC_OBJECT_LOCKED', 403]);
    const pointer = deleted.$response?.headers['x-eosc-evidence-pointer'];

    await s3.send(new PutObjectLegalHoldCommand({ Bucket: plain, Key: key, LegalHold: { Status: 'OFF' } }));
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: key }))).LegalHold?.Status).toBe('OFF');
    expect((await s3.send(new DeleteObjectCommand({ Bucket: plain, Key: key }))).$metadata.httpStatusCode).toBe(204);

    const chain = await events();
    const holds = chain.filter(
      (event) => event.eventType === 'object.legal_hold' && event.outcome === 'accepted' && JSON.stringify(event.details).includes(key),
    );
    expect(holds.map((event) => event.details.action).sort()).toEqual(['object.legal_hold.off', 'object.legal_hold.on']);
    const refused = chain.find((event) => event.evidencePointer === pointer);
    expect(refused).toMatchObject({ eventType: 'object.delete', outcome: 'refused' });
    expect(refused!.details).toMatchObject({ object_key: key, legal_hold: true });
  });

  it('lists the versions of a key put twice, reads and deletes one by its versionId', async () => {
    const key = 'docs/plan.txt';
    const metadata = { ...GOVERNANCE, 'eosc-retention-ttl': 'P0D' };
    const first = await s3.send(new PutObjectCommand({ Bucket: versioned, Key: key, Body: 'first', Metadata: metadata }));
    const second = await s3.send(new PutObjectCommand({ Bucket: versioned, Key: key, Body: 'second', Metadata: metadata }));
    expect(first.VersionId).toBeDefined();
    expect(second.VersionId).not.toBe(first.VersionId);

    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: 'docs/' }));
    expect(listed.Versions?.map((version) => [version.Key, version.VersionId, version.IsLatest])).toEqual([
      [key, second.VersionId, true],
      [key, first.VersionId, false],
    ]);
    expect(listed.IsTruncated).toBe(false);
    const one = await s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: 'docs/', MaxKeys: 1 }));
    expect([one.Versions?.length, one.IsTruncated]).toEqual([1, true]);

    const old = await s3.send(new GetObjectCommand({ Bucket: versioned, Key: key, VersionId: first.VersionId }));
    expect([await old.Body!.transformToString(), old.VersionId]).toEqual(['first', first.VersionId]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: versioned, Key: key, VersionId: first.VersionId }));
    expect(head.VersionId).toBe(first.VersionId);
    const unknown = await refusal(s3.send(new GetObjectCommand({ Bucket: versioned, Key: key, VersionId: 'no-such-version' })));
    expect([unknown.name, unknown.$metadata.httpStatusCode]).toEqual(['NoSuchVersion', 404]);

    const removed = await s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: key, VersionId: first.VersionId }));
    expect([removed.$metadata.httpStatusCode, removed.VersionId]).toEqual([204, first.VersionId]);
    const again = await s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: key, VersionId: first.VersionId }));
    expect(again.$metadata.httpStatusCode).toBe(204);
    expect((await s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'never/there.txt' }))).$metadata.httpStatusCode).toBe(204);
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: 'docs/' }));
    expect(after.Versions?.map((version) => version.VersionId)).toEqual([second.VersionId]);
    expect((await events()).some((event) => event.eventType === 'object.version.delete' && event.outcome === 'accepted')).toBe(true);
  });
});
