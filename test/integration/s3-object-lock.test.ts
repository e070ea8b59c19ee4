import {
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
  type S3Client,
} from '@aws-sdk/client-s3';
import { chainEvents } from '../support/chain-events';
import { DATA_S3_SCOPES, createS3Bucket, createS3Credential, createS3Tenant, governanceMetadata, s3Refusal } from '../support/s3-tenant';
import type { ChainEvent } from '../support/s3-tenant';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const GOVERNANCE = governanceMetadata('s3-lock');

describe('S3 object lock, legal hold and versions with the AWS SDK', () => {
  let env: TestStack;
  let s3: S3Client;
  const tenantId = uniqueId('s3l');
  const plain = uniqueId('lck');
  const versioned = uniqueId('ver');

  let events: () => Promise<ChainEvent[]>;

  beforeAll(async () => {
    env = await startTestStack();
    const tenant = await createS3Tenant(env, tenantId, { name: 'lock' });
    s3 = tenant.client;
    events = tenant.events;
    await createS3Bucket(s3, plain);
    await createS3Bucket(s3, versioned, { objectLock: true });
  });
  afterAll(async () => {
    s3?.destroy();
    await env?.stop();
  });

  it('reads versioning, turns it on for a bucket with evidence, and refuses to suspend it', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: versioned }))).Status).toBe('Enabled');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: plain }))).Status).toBeUndefined();
    const kept = await s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
    expect(kept.$metadata.httpStatusCode).toBe(200);
    const suspend = await s3Refusal(
      s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Suspended' } })),
    );
    // As S3 refuses it on a bucket with object lock, with the refusal's evidence.
    expect([suspend.name, suspend.$metadata.httpStatusCode]).toEqual(['InvalidBucketState', 409]);
    expect(suspend.message).toBe('An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
    const pointer = suspend.$response?.headers['x-eosc-evidence-pointer'];
    expect((await chainEvents(env, tenantId)).find((event) => event.evidencePointer === pointer)).toMatchObject({
      eventType: 'storage.bucket.versioning',
      outcome: 'refused',
      refusalReasonCode: 'object_lock_requires_versioning',
      details: expect.objectContaining({ bucket: versioned, requested: 'suspended' }),
    });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: versioned }))).Status).toBe('Enabled');
    // An unversioned bucket stays as it is.
    const plainSuspend = await s3.send(new PutBucketVersioningCommand({ Bucket: plain, VersioningConfiguration: { Status: 'Suspended' } }));
    expect(plainSuspend.$metadata.httpStatusCode).toBe(200);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: plain }))).Status).toBeUndefined();
    const missing = await s3Refusal(s3.send(new GetBucketVersioningCommand({ Bucket: 'no-such-bucket-here' })));
    expect(missing.name).toBe('NoSuchBucket');

    // An unversioned bucket with an object in it, then versioning turned on: the object stays,
    // and the next write keeps it as an older version.
    const later = uniqueId('lat');
    await createS3Bucket(s3, later);
    const metadata = { ...GOVERNANCE, 'eosc-retention-ttl': 'P0D' };
    const before = await s3.send(new PutObjectCommand({ Bucket: later, Key: 'k.txt', Body: 'before', Metadata: metadata }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: later, VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: later }))).Status).toBe('Enabled');
    const after = await s3.send(new PutObjectCommand({ Bucket: later, Key: 'k.txt', Body: 'after', Metadata: metadata }));
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: later }));
    expect(listed.Versions?.map((version) => [version.VersionId, version.IsLatest])).toEqual([
      [after.VersionId, true],
      [before.VersionId, false],
    ]);
    const old = await s3.send(new GetObjectCommand({ Bucket: later, Key: 'k.txt', VersionId: before.VersionId }));
    expect(await old.Body!.transformToString()).toBe('before');
    // Turning versioning on needs storage.govern.
    const plainer = uniqueId('npv');
    await createS3Bucket(s3, plainer);
    const dataOnly = await createS3Credential(env, tenantId, { name: 'data-only', scopes: DATA_S3_SCOPES });
    const denied = await s3Refusal(
      dataOnly.client.send(new PutBucketVersioningCommand({ Bucket: plainer, VersioningConfiguration: { Status: 'Enabled' } })),
    );
    expect(denied.$metadata.httpStatusCode).toBe(403);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: plainer }))).Status).toBeUndefined();
    dataOnly.client.destroy();
    const changes = (await events()).filter((event) => event.eventType === 'storage.bucket.versioning' && event.outcome === 'accepted');
    expect(changes).toEqual([
      expect.objectContaining({ outcome: 'accepted', details: expect.objectContaining({ bucket: later, versioning: true }) }),
    ]);
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

    const wrongMode = await s3Refusal(
      s3.send(new PutObjectRetentionCommand({ Bucket: plain, Key: key, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } })),
    );
    expect([wrongMode.name, wrongMode.$metadata.httpStatusCode]).toEqual(['InvalidRequest', 400]);
    const shorter = await s3Refusal(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket: plain,
          Key: key,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 3_600_000) },
        }),
      ),
    );
    expect([shorter.name, shorter.$metadata.httpStatusCode]).toEqual(['EOSC_OBJECT_LOCKED', 403]);

    const deleted = await s3Refusal(s3.send(new DeleteObjectCommand({ Bucket: plain, Key: key })));
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

    const missing = await s3Refusal(s3.send(new GetObjectRetentionCommand({ Bucket: plain, Key: 'no/such/key' })));
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

    const deleted = await s3Refusal(s3.send(new DeleteObjectCommand({ Bucket: plain, Key: key })));
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
    const unknown = await s3Refusal(s3.send(new GetObjectCommand({ Bucket: versioned, Key: key, VersionId: 'no-such-version' })));
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
