import { Client } from 'pg';

/** What a LISTEN subscriber is told. */
export interface NotificationHandlers {
  /** The payload of one NOTIFY on the channel (sent by a transaction that committed). */
  onNotification(payload: string): void;
  /**
   * The listening connection was lost and listens again: notifications sent in between
   * are lost, so the subscriber should look at the data itself once.
   */
  onResync(): void;
  /** A connection problem (logged by the caller); reconnecting is automatic. */
  onError?(error: unknown): void;
  /**
   * The listening connection is gone (notifications may be missed until `onResync`).
   * PostgreSQL only: an embedded database cannot lose its in-process listener.
   */
  onLost?(): void;
}

export interface PgListenerOptions {
  url: string;
  channel: string;
  /** How long one connection attempt may take, in ms. @default 5000 */
  connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts, in ms. @default 5000 */
  maxBackoffMs?: number;
}

const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * LISTENs on a connection of its own (a pooled connection goes back to the pool and
 * loses its LISTEN), and reconnects with backoff when that connection drops. The first
 * connection must succeed; resolves with a function that stops listening.
 */
export async function listenOnPostgres(options: PgListenerOptions, handlers: NotificationHandlers): Promise<() => Promise<void>> {
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  let current: Client | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoffMs = 250;

  const connect = async (): Promise<void> => {
    const client = new Client({
      connectionString: options.url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      keepAlive: true,
    });
    client.on('notification', (message) => {
      if (message.channel === options.channel) handlers.onNotification(message.payload ?? '');
    });
    client.on('error', (error) => {
      handlers.onError?.(error);
      lost(client);
    });
    client.on('end', () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(options.channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    current = client;
  };

  const lost = (client: Client): void => {
    if (client !== current || stopped) return;
    current = undefined;
    handlers.onLost?.();
    client.end().catch(() => undefined);
    scheduleReconnect();
  };

  const scheduleReconnect = (): void => {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().then(
        () => {
          backoffMs = 250;
          if (!stopped) handlers.onResync();
        },
        (error: unknown) => {
          handlers.onError?.(error);
          backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
          scheduleReconnect();
        },
      );
    }, backoffMs);
  };

  await connect();
  return async () => {
    stopped = true;
    if (retryTimer) clearTimeout(retryTimer);
    const client = current;
    current = undefined;
    await client?.end().catch(() => undefined);
  };
}
