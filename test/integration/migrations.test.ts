import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openDatabase } from '../../lib/db/database';
import { MIGRATIONS_DIR, readLocalMigrations } from '../../lib/db/migrate';
import { makeTempDir } from '../../testkit/temp-dir';
import { createTestDatabase } from '../../testkit/test-database';

describe('migrations', () => {
  it("applies the committed migrations once, with Prisma's own bookkeeping", async () => {
    const dir = await makeTempDir();
    const database = await createTestDatabase();
    const db = await openDatabase({ dataDir: dir.path, databaseUrl: database.databaseUrl });
    try {
      const all = (await readLocalMigrations()).map((migration) => migration.name);
      expect(all.length).toBeGreaterThan(0);
      expect(await db.migrate()).toEqual(all);
      expect(await db.migrate()).toEqual([]);
      const rows = await db.prisma.$queryRaw<Array<{ migration_name: string; checksum: string; finished_at: Date | null }>>`
        SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name`;
      expect(rows.map((row) => row.migration_name)).toEqual(all);
      for (const row of rows) {
        // `prisma migrate deploy` recognises a migration by the SHA-256 of its file.
        const text = await readFile(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
        expect(row.checksum).toBe(createHash('sha256').update(text).digest('hex'));
        expect(row.finished_at).not.toBeNull();
      }
    } finally {
      await db.close();
      await database.drop();
      await dir.remove();
    }
  });

  it('`ecs migrate` applies them from the command line', async () => {
    const dir = await makeTempDir();
    const database = await createTestDatabase();
    const env = { ...process.env, DATA_DIR: dir.path, DATABASE_URL: database.databaseUrl ?? '' };
    const ecs = path.resolve(__dirname, '..', '..', 'bin', 'ecs.js');
    try {
      const first = spawnSync(process.execPath, [ecs, 'migrate'], { env, encoding: 'utf8' });
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/^applied: \d{14}_init/);
      const second = spawnSync(process.execPath, [ecs, 'migrate'], { env, encoding: 'utf8' });
      expect(second.status).toBe(0);
      expect(second.stdout.trim()).toBe('database is up to date');
    } finally {
      await database.drop();
      await dir.remove();
    }
  });
});
