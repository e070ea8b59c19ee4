import { Client } from 'pg';

export interface PgNotifier {
  /** NOTIFY `channel` with `payload`, committed without waiting for the disk. */
  notify(channel: string, payload: string): Promise<void>;
  /** Ends the connection; later notifications are refused. */
  close(): Promise<void>;
}

const NOTIFY = { name: 'ecs_notify', text: 'SELECT pg_notify($1, $2)' } as const;

/**
 * NOTIFYs on one PostgreSQL connection of their own, opened on first use. Its session commits
 * without waiting for the disk (a notification lost in a crash is harmless to listeners, who
 * read the data itself), so each notification is one prepared statement in a transaction of
 * its own: no pooled connection to take and give back, no BEGIN and COMMIT to send.
 * A connection that fails is dropped; a notification that failed on it is sent once more on
 * a new one, so a connection cut while idle costs no announcement.
 */
export function pgNotifier({ url, connectTimeoutMs }: { url: string; connectTimeoutMs: number }): PgNotifier {
  let current: Promise<Client> | undefined;
  let closed = false;

  const drop = (connection: Promise<Client>): void => {
    if (current !== connection) return;
    current = undefined;
    void connection.then((client) => client.end()).catch(() => undefined);
  };

  const open = (): Promise<Client> => {
    if (current) return current;
    const client = new Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
    const connection = (async () => {
      await client.connect();
      await client.query('SET synchronous_commit TO off');
      return client;
    })();
    current = connection;
    // A server restart or a cut connection: the next notification opens another.
    client.on('error', () => drop(connection));
    client.on('end', () => drop(connection));
    connection.catch(() => drop(connection));
    return connection;
  };

  const send = async (channel: string, payload: string): Promise<void> => {
    const connection = open();
    try {
      await (await connection).query({ ...NOTIFY, values: [channel, payload] });
    } catch (error) {
      drop(connection);
      throw error;
    }
  };

  return {
    async notify(channel, payload) {
      if (closed) throw new Error('the database is closed');
      try {
        await send(channel, payload);
      } catch {
        if (closed) throw new Error('the database is closed');
        await send(channel, payload);
      }
    },
    async close() {
      closed = true;
      const connection = current;
      current = undefined;
      if (connection) await connection.then((client) => client.end()).catch(() => undefined);
    },
  };
}
