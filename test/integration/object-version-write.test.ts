import { randomUUID } from 'node:crypto';
import type { Database } from '../../lib/db/database';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import { verifyChain } from '../../subgraphs/audit/data/chain';
import { ObjectLockedError, deleteCurrent, findCurrentVersion, governanceFields, putVersion } from '../../subgraphs/data/records/objects';
import { openMigratedTestDatabase } from '../../testkit/test-database';
import { createBucket, evidence, newVersion } from '../support/object-versions';

describe('writing an object version with its evidence', () => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await openMigratedTestDatabase());
  });
  afterAll(() => close());

  const versionIds = async (bucket: string, key: string) =>
    (
      await db.query<{ version_id: string }>(
        'SELECT version_id FROM data_object_versions WHERE bucket = $1 AND key = $2 ORDER BY created_at, version_id',
        [bucket, key],
      )
    ).map((row) => row.version_id);
  const head = async (tenantId: string) =>
    (await db.query<{ sequence: number }>('SELECT sequence FROM audit_chain_heads WHERE chain_id = $1', [chainIdFor(tenantId)]))[0]
      ?.sequence ?? 0;

  it('answers the version as stored, with the pointer of its event, and the event describes the stored row', async () => {
    const tenantId = `ovw-${randomUUID()}`;
    const bucket = await createBucket(db, tenantId, false);
    const { version, event } = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence);
    const stored = await findCurrentVersion(db, bucket, 'k');
    expect(stored).toEqual(version);
    expect(version.putEvidencePointer).toBe(event.evidence_pointer);
    expect(version.size).toBe(1024n);
    expect(version.userMetadata).toBe('{"owner":"team-a"}');
    expect(event).toMatchObject({ ...governanceFields(stored!), versioning: false, origin: 'put', integrity_verified: true });
    expect(event).not.toHaveProperty('replaced_version_id');
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 1 });
  });

  it('an unversioned bucket replaces the current version: the old row goes and the event names it', async () => {
    const tenantId = `ovw-${randomUUID()}`;
    const bucket = await createBucket(db, tenantId, false);
    const first = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence);
    const second = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence);
    expect(second.event).toMatchObject({ replaced_version_id: first.version.versionId });
    expect(await versionIds(bucket, 'k')).toEqual([second.version.versionId]);
    expect(await findCurrentVersion(db, bucket, 'k')).toEqual(second.version);
  });

  it('a versioned bucket keeps every version; the newest is current', async () => {
    const tenantId = `ovw-${randomUUID()}`;
    const bucket = await createBucket(db, tenantId, true);
    const first = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence);
    const second = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence);
    expect(second.event).toMatchObject({ versioning: true, replaced_version_id: first.version.versionId });
    expect((await versionIds(bucket, 'k')).sort()).toEqual([first.version.versionId, second.version.versionId].sort());
    expect((await findCurrentVersion(db, bucket, 'k'))?.versionId).toBe(second.version.versionId);
  });

  it('a current version under legal hold refuses the overwrite and nothing is written', async () => {
    const tenantId = `ovw-${randomUUID()}`;
    const bucket = await createBucket(db, tenantId, false);
    const held = await putVersion(db, newVersion(bucket, 'k', tenantId, { legalHold: true }), evidence);
    const refusal = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ObjectLockedError);
    expect((refusal as ObjectLockedError).reasonCode).toBe('legal_hold_on');
    expect(await versionIds(bucket, 'k')).toEqual([held.version.versionId]);
    expect(await head(tenantId)).toBe(1);
  });

  it('a bucket that is gone refuses the write with not found, and nothing is written', async () => {
    const tenantId = `ovw-${randomUUID()}`;
    await expect(putVersion(db, newVersion('no-such-bucket', 'k', tenantId), evidence)).rejects.toMatchObject({
      code: 'ECS_NOT_FOUND',
    });
    expect(await db.query('SELECT 1 FROM data_objects WHERE bucket = $1', ['no-such-bucket'])).toEqual([]);
    expect(await head(tenantId)).toBe(0);
  });

  it('retention in force records the bucket lock mode on the version', async () => {
    const tenantId = `ovw-${randomUUID()}`;
    const bucket = await createBucket(db, tenantId, true);
    const until = new Date(Date.now() + 3_600_000);
    const { version, event } = await putVersion(
      db,
      newVersion(bucket, 'k', tenantId, { retentionUntil: until, bucketLockMode: 'governance' }),
      evidence,
    );
    expect([version.lockMode, version.retentionUntil?.toISOString()]).toEqual(['governance', until.toISOString()]);
    expect(event).toMatchObject({ lock_mode: 'governance', retention_until: until.toISOString() });
  });

  it('deleting in an unversioned bucket removes the version and leaves the key without one, in one commit with its event', async () => {
    const tenantId = `ovw-${randomUUID()}`;
    const bucket = await createBucket(db, tenantId, false);
    const { version } = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence);
    const result = await deleteCurrent(db, { bucket, key: 'k', tenantId, versioned: false }, evidence);
    expect(result?.marker).toBeNull();
    expect(result?.deleted).toEqual(version);
    expect(result?.event).toMatchObject({ event_type: 'object.delete', ...governanceFields(version), delete_marker: false });
    expect(await versionIds(bucket, 'k')).toEqual([]);
    const [object] = await db.query<{ current_version_id: string | null }>(
      'SELECT current_version_id FROM data_objects WHERE bucket = $1 AND key = $2',
      [bucket, 'k'],
    );
    expect(object).toEqual({ current_version_id: null });
    expect(await deleteCurrent(db, { bucket, key: 'k', tenantId, versioned: false }, evidence)).toBeNull();
    expect(await head(tenantId)).toBe(2);
    expect(await verifyChain({ db, tenantId })).toMatchObject({ valid: true, checked: 2 });
  });

  it("deleting in a versioned bucket makes a delete marker current, carrying its event's pointer; the version stays", async () => {
    const tenantId = `ovw-${randomUUID()}`;
    const bucket = await createBucket(db, tenantId, true);
    const { version } = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence);
    const result = await deleteCurrent(db, { bucket, key: 'k', tenantId, versioned: true }, evidence);
    const marker = result!.marker!;
    expect(marker).toMatchObject({ deleteMarker: true, size: 0n, sha256: null, putEvidencePointer: result!.event.evidence_pointer });
    const [current] = await db.query<{ current_version_id: string }>(
      'SELECT current_version_id FROM data_objects WHERE bucket = $1 AND key = $2',
      [bucket, 'k'],
    );
    expect(current).toEqual({ current_version_id: marker.versionId });
    expect((await versionIds(bucket, 'k')).sort()).toEqual([version.versionId, marker.versionId].sort());
    expect(result!.event).toMatchObject({ version_id: version.versionId, delete_marker: true });
    // A marker is not deleted again.
    expect(await deleteCurrent(db, { bucket, key: 'k', tenantId, versioned: true }, evidence)).toBeNull();
  });

  it('a current version under retention refuses the delete and nothing is written', async () => {
    const tenantId = `ovw-${randomUUID()}`;
    const bucket = await createBucket(db, tenantId, false);
    const until = new Date(Date.now() + 3_600_000);
    const { version } = await putVersion(db, newVersion(bucket, 'k', tenantId, { retentionUntil: until }), evidence);
    const refusal = await deleteCurrent(db, { bucket, key: 'k', tenantId, versioned: false }, evidence).catch((error: unknown) => error);
    expect((refusal as ObjectLockedError).reasonCode).toBe('retention_in_force');
    expect(await versionIds(bucket, 'k')).toEqual([version.versionId]);
    expect(await head(tenantId)).toBe(1);
  });
});
