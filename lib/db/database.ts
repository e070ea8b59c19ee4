import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../../prisma/generated/client';
import { applyMigrations } from './migrate';

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
  const factory = new PrismaPGlite(pglite);
  const prisma = new PrismaClient({ adapter: factory });
  return wrap('pglite', prisma, factory, async () => {
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
  const factory = new PrismaPg(poolConfig);
  const prisma = new PrismaClient({ adapter: factory });
  return wrap('postgresql', prisma, factory, () => prisma.$disconnect());
}

function wrap(
  kind: DatabaseKind,
  prisma: PrismaClient,
  factory: SqlMigrationAwareDriverAdapterFactory,
  close: () => Promise<void>,
): Database {
  let closed: Promise<void> | undefined;
  return {
    kind,
    prisma,
    migrate: () => applyMigrations(factory),
    ping: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
    close: () => (closed ??= close()),
  };
}
