import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openDatabase } from '../lib/db/database';
import type { Database, DatabaseOptions } from '../lib/db/database';
import { seedEmbeddedDatabase } from './embedded-template';
import { makeTempDir } from './temp-dir';

export interface TestDatabase {
  /** URL of a fresh database, or undefined for the embedded one. */
  databaseUrl: string | undefined;
  drop(): Promise<void>;
}

export const onPostgres = process.env.ECS_TEST_POSTGRES === '1';

export function postgresAdminUrl(): string {
  return process.env.ECS_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
}

/** A fresh PostgreSQL database (`ecs_test_<random>`) dropped afterwards. */
export async function createPostgresDatabase(): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `ecs_test_${randomBytes(6).toString('hex')}`;
  const admin = postgresAdminUrl();
  await withClient(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    drop: () => withClient(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** On the `postgres` project a fresh PostgreSQL database; otherwise the embedded one. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!onPostgres) return { databaseUrl: undefined, drop: async () => undefined };
  return createPostgresDatabase();
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A migrated database of the project's kind for the test (see createTestDatabase) in a fresh directory; `close` removes it all. */
export async function openMigratedTestDatabase(
  options: Pick<DatabaseOptions, 'waitersPerKey'> = {},
): Promise<{ db: Database; close(): Promise<void> }> {
  const dir = await makeTempDir();
  const database = await createTestDatabase();
  if (!database.databaseUrl) await seedEmbeddedDatabase(dir.path);
  const db = await openDatabase({ dataDir: dir.path, databaseUrl: database.databaseUrl, ...options });
  await db.migrate();
  return {
    db,
    close: async () => {
      await db.close();
      await database.drop();
      await dir.remove();
    },
  };
}
