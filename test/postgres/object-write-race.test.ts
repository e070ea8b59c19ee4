import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { openDatabase } from '../../lib/db/database';
import { putVersion } from '../../subgraphs/data/records/objects';
import { createPostgresDatabase } from '../../testkit/test-database';
import { createBucket, evidence, newVersion } from '../support/object-versions';

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('an object version made current by another replica while a write waits for the object row', () => {
  it('is read once the row is locked: the overwrite of an unversioned key replaces it and its event names it', async () => {
    const database = await createPostgresDatabase();
    const db = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: '/nonexistent' });
    const other = new Client({ connectionString: database.databaseUrl });
    try {
      await db.migrate();
      await other.connect();
      const tenantId = `race-${randomUUID()}`;
      const bucket = await createBucket(db, tenantId, false);
      const first = await putVersion(db, newVersion(bucket, 'k', tenantId), evidence);

      // Another replica's overwrite, not yet committed: its version made current, the object row locked.
      const theirs = randomUUID();
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO data_object_versions (version_id, object_id, bucket, key, tenant_id, sha256, size, origin, created_at)
         VALUES ($1, $2::uuid, $3, 'k', $4, 'ab', 1, 'put', now())`,
        [theirs, first.version.objectId, bucket, tenantId],
      );
      await other.query('UPDATE data_objects SET current_version_id = $1 WHERE id = $2::uuid', [theirs, first.version.objectId]);
      await other.query('DELETE FROM data_object_versions WHERE version_id = $1', [first.version.versionId]);

      // This write's statement starts (its snapshot without their version) and waits for the row.
      const writing = putVersion(db, newVersion(bucket, 'k', tenantId), evidence);
      await until(async () => {
        const [row] = await db.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return row!.waiting > 0;
      });
      await other.query('COMMIT');

      const ours = await writing;
      expect(ours.event).toMatchObject({ replaced_version_id: theirs });
      const versions = await db.query<{ version_id: string }>('SELECT version_id FROM data_object_versions WHERE bucket = $1', [bucket]);
      expect(versions).toEqual([{ version_id: ours.version.versionId }]);
    } finally {
      await other.end();
      await db.close();
      await database.drop();
    }
  });
});
