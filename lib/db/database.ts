import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../../prisma/generated/client';
import { Client } from 'pg';
import { applyMigrations } from './migrate';
import type { MigrationConnection } from './migrate';

export type DatabaseKind = 'pglite' | 'postgresql';

/** The one database handle of a process, shared by every plane that runs in it. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly prisma: PrismaClient;
  /** Applies committed migrations not yet in the database; returns their names. */
  migrate(): Promise<string[]>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL server URL; when absent the embedded database under `dataDir` is used. */
  databaseUrl?: string;
  /** Directory of the embedded database (`<dataDir>/pglite`). */
  dataDir: string;
  /** Pool size per process on PostgreSQL. @default 10 */
  poolSize?: number;
  /** How long a query may wait for a pooled connection, in ms. @default 5000 */
  connectTimeoutMs?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openPglite(options.dataDir);
}

async function openPglite(dataDir: string): Promise<Database> {
  const dir = path.join(dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    // The first open runs initdb, whose WebAssembly memory (~400 MB) stays with the
    // instance; reopening after it halves the resident memory of the running service.
    await (await PGlite.create(dir)).close();
  }
  const pglite = await PGlite.create(dir);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  const connection: MigrationConnection = {
    exec: async (script) => {
      await pglite.exec(script);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
  };
  return wrap('pglite', prisma, async (work) => work(connection), async () => {
    await prisma.$disconnect();
    await pglite.close();
  });
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const poolConfig = {
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
  };
  const prisma = new PrismaClient({ adapter: new PrismaPg(poolConfig) });
  // Migrations run on a connection of their own: scripts with several statements
  // (functions, triggers) need PostgreSQL's simple query protocol.
  const withConnection = async <T>(work: (connection: MigrationConnection) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: poolConfig.connectionTimeoutMillis });
    await client.connect();
    try {
      return await work({
        exec: async (script) => {
          await client.query(script);
        },
        query: async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[],
      });
    } finally {
      await client.end();
    }
  };
  return wrap('postgresql', prisma, withConnection, () => prisma.$disconnect());
}

function wrap(
  kind: DatabaseKind,
  prisma: PrismaClient,
  withConnection: <T>(work: (connection: MigrationConnection) => Promise<T>) => Promise<T>,
  close: () => Promise<void>,
): Database {
  let closed: Promise<void> | undefined;
  return {
    kind,
    prisma,
    migrate: () => withConnection((connection) => applyMigrations(connection)),
    ping: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
    close: () => (closed ??= close()),
  };
}
