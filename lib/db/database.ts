import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../../prisma/generated/client';
import { Client, Pool } from 'pg';
import { KeyedQueue } from './keyed-queue';
import { withEventLoopTurns } from './pglite-turns';
import { applyMigrations } from './migrate';
import type { MigrationConnection } from './migrate';
import { listenOnPostgres } from './pg-listener';
import { pgNotifier } from './pg-notifier';
import type { NotificationHandlers } from './pg-listener';

export type { NotificationHandlers };

export type DatabaseKind = 'pglite' | 'postgresql';

/** The one database handle of a process, shared by every plane that runs in it. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly prisma: PrismaClient;
  /** Queries that can run at once: the pool size on PostgreSQL, 1 for the embedded database. */
  readonly poolSize: number;
  /**
   * Runs `work` in arrival order per `key` (the ledger keys its transactions and statements
   * by chain), one at a time per key (see KeyedQueue). At most `waitersPerKey` works wait
   * per key; beyond that it refuses at once with ECS_DEPENDENCY_UNAVAILABLE (503).
   */
  serialize<T>(key: string, work: () => Promise<T>): Promise<T>;
  /**
   * One statement with `$1`-style parameters, on its own (autocommit), straight on the
   * driver: the pooled `pg` client on PostgreSQL, PGlite's own query (which waits for any
   * open transaction) when embedded. For the hot path where Prisma's per-query work would
   * dominate (the ledger's own-statement appends); everything else goes through `prisma`.
   * On PostgreSQL each text is prepared once per pooled connection (a named statement), so
   * later runs skip the parse and a message of the round trip.
   */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * NOTIFY `channel` with `payload` in a transaction of its own whose commit does not wait
   * for the disk (a notification lost in a crash is harmless to its listeners, who look at
   * the data itself; waiting would cost every notification a flush of the log).
   */
  notify(channel: string, payload: string): Promise<void>;
  /** Applies committed migrations not yet in the database; returns their names. */
  migrate(): Promise<string[]>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * LISTENs on `channel`: each NOTIFY of a committed transaction reaches `onNotification`.
   * PostgreSQL: on a connection of its own, reconnected when lost (then `onResync`).
   * PGlite: in-process, through PGlite's own LISTEN. Resolves with a function that stops.
   */
  listen(channel: string, handlers: NotificationHandlers): Promise<() => Promise<void>>;
  /** Stops the listeners, then closes the database. */
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
  /** Works that may wait per key of `serialize` (per evidence chain). @default 1024 */
  waitersPerKey?: number;
}

const DEFAULT_WAITERS_PER_KEY = 1024;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openPglite(options.dataDir, options);
}

async function openPglite(dataDir: string, options: DatabaseOptions): Promise<Database> {
  const dir = path.join(dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    // The first open runs initdb, whose WebAssembly memory (~400 MB) stays with the
    // instance; reopening after it halves the resident memory of the running service.
    await (await PGlite.create(dir)).close();
  }
  const pglite = withEventLoopTurns(await PGlite.create(dir));
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  const connection: MigrationConnection = {
    exec: async (script) => {
      await pglite.exec(script);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
  };
  const listen = async (channel: string, handlers: NotificationHandlers) => {
    const unlisten = await pglite.listen(channel, (payload) => handlers.onNotification(payload));
    return async () => {
      if (!pglite.closed) await unlisten().catch(() => undefined);
    };
  };
  return wrap(
    'pglite',
    1,
    options.waitersPerKey,
    async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
    async (channel, payload) => {
      await pglite.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    prisma,
    async (work) => work(connection),
    listen,
    async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  );
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const poolConfig = {
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
  };
  // One pool for Prisma and for `query`; Prisma ends it when it disconnects.
  const pool = new Pool(poolConfig);
  // A pooled connection that fails while idle (a server restart) is dropped by the pool; the
  // next query reports the outage. Without a listener the error would end the process.
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
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
  const listen = (channel: string, handlers: NotificationHandlers) =>
    listenOnPostgres({ url, channel, connectTimeoutMs: poolConfig.connectionTimeoutMillis }, handlers);
  const query = async <T>(sql: string, params?: unknown[]) =>
    (await pool.query({ name: statementName(sql), text: sql, values: params })).rows as T[];
  // NOTIFYs on a connection of their own (see pgNotifier): the pool stays for queries.
  const notifier = pgNotifier({ url, connectTimeoutMs: poolConfig.connectionTimeoutMillis });
  return wrap('postgresql', poolConfig.max, options.waitersPerKey, query, notifier.notify, prisma, withConnection, listen, async () => {
    await notifier.close();
    await prisma.$disconnect();
  });
}

const statementNames = new Map<string, string>();

/** The name a text is prepared under on every connection of the process (`ecs_<n>`, one per text). */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `ecs_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name;
}

function wrap(
  kind: DatabaseKind,
  poolSize: number,
  /** Works that may wait per chain (see KeyedQueue); undefined: the default. */
  waitersPerKey: number | undefined,
  query: <T>(sql: string, params?: unknown[]) => Promise<T[]>,
  notify: (channel: string, payload: string) => Promise<void>,
  prisma: PrismaClient,
  withConnection: <T>(work: (connection: MigrationConnection) => Promise<T>) => Promise<T>,
  listen: (channel: string, handlers: NotificationHandlers) => Promise<() => Promise<void>>,
  close: () => Promise<void>,
): Database {
  let closed: Promise<void> | undefined;
  const listeners = new Set<() => Promise<void>>();
  const queue = new KeyedQueue(waitersPerKey ?? DEFAULT_WAITERS_PER_KEY);
  return {
    kind,
    poolSize,
    prisma,
    serialize: (key, work) => queue.run(key, work),
    query,
    notify,
    migrate: () => withConnection((connection) => applyMigrations(connection)),
    ping: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
    listen: async (channel, handlers) => {
      if (closed) throw new Error('the database is closed');
      const stop = await listen(channel, handlers);
      const unlisten = async () => {
        if (listeners.delete(unlisten)) await stop();
      };
      listeners.add(unlisten);
      return unlisten;
    },
    close: () =>
      (closed ??= (async () => {
        await Promise.all([...listeners].map((unlisten) => unlisten()));
        await close();
      })()),
  };
}
