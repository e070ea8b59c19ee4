import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { EcsError, ErrorCode, formatGraphQLError } from '../../lib/errors';
import type { EvidenceStream } from '../../lib/evidence/live/evidence-stream';
import { CloseCode, closeReason } from './close-codes';
import { connect } from './connect';
import type { Connection, ConnectionExtra, ConnectOptions } from './connect';
import { openAuditStream } from './open-audit-stream';
import type { AuditStreamArgs } from './open-audit-stream';
import { refuseMalformedInput } from '../../lib/evidence/input-refusal';
import { findSubscribeInputProblem, prepareSubscription } from './prepare-subscription';
import { DirectSubscription } from './direct-subscription';
import { sharedExecutionSubscribe } from './shared-execution';
import { buildSubscriptionSchema } from './subscription-schema';
import { trackSubscriptionServer } from './subscription-metrics';
import type { PersistedOperations } from '../persisted-operations';

export interface SubscriptionServerOptions extends ConnectOptions {
  server: Server;
  /** @default '/graphql' */
  path?: string;
  stream: EvidenceStream;
  /** Browser origins allowed besides the gateway's own (CORS_ORIGINS). */
  corsOrigins: readonly string[];
  /** Persisted operations and the safelist, as on `POST /graphql`. */
  persisted?: PersistedOperations;
}

export interface SubscriptionServer {
  /** Open websocket connections. */
  readonly size: number;
  /** Closes every connection (1001) and stops accepting new ones. */
  close(): Promise<void>;
}

/** Largest message a client may send (a subscribe document with its variables). */
const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * The gateway's graphql-ws server on the same port and path as `POST /graphql`:
 * authentication in `connection_init`, `Subscription.auditEvents` from the evidence stream,
 * per-connection buffers, per-principal limits and credential expiry. Close codes:
 * close-codes.ts and docs/subscriptions.md.
 */
export function attachSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const path = options.path ?? '/graphql';
  const { log, limits } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const untrack = trackSubscriptionServer(wss);
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = upgradeRefusal(request, path, options.corsOrigins);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  options.server.on('upgrade', onUpgrade);

  const schema = buildSubscriptionSchema(async (_root, args, context: { connection: Connection }) => {
    const { connection } = context;
    try {
      return await openAuditStream({
        stream: options.stream,
        db: options.db,
        caller: connection.caller,
        correlationId: randomUUID(),
        args: args as AuditStreamArgs,
        budget: connection.budget,
        onOverflow: () =>
          connection.socket.close(
            CloseCode.SlowConsumer,
            closeReason(ErrorCode.SlowConsumer, { message: 'too many events waited; resume from your last sequence' }),
          ),
      });
    } catch (error) {
      // A subscription outside the caller's scope closes the connection (4403), with the refusal's evidence pointer.
      if (error instanceof EcsError && error.code === ErrorCode.Forbidden) {
        connection.socket.close(CloseCode.Forbidden, closeReason(error.code, error));
      }
      throw error;
    }
  });

  const format = (errors: readonly GraphQLError[]) =>
    errors.map((error) => formatGraphQLError(error.toJSON(), error, (internal) => log.error({ err: internal }, 'subscription error')));
  /** The payload of a `next` message: a result's errors formatted as on `POST /graphql`. */
  const onNext = (result: ExecutionResult) => (result.errors ? { ...result, errors: format(result.errors) } : undefined);

  const graphqlWs = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      schema,
      subscribe: sharedExecutionSubscribe({ onNext }),
      onConnect: (ctx) => connect(ctx, options),
      onSubscribe: async (ctx, _id, payload) => {
        // The same input boundary as HTTP: refused with a recorded 400, never carried further.
        const finding = findSubscribeInputProblem(payload);
        if (finding) {
          const connection = ctx.extra.connection;
          const refusal = await refuseMalformedInput({
            db: options.db,
            throttle: options.throttle,
            caller: connection?.caller,
            correlationId: connection?.correlationId ?? randomUUID(),
            request: 'websocket subscribe',
            finding,
            onUnrecorded: (cause) => log.error({ err: cause }, 'input refusal evidence not recorded'),
          });
          return [refusal.toGraphQLError()];
        }
        const connection = ctx.extra.connection;
        const persisted = options.persisted
          ? options.persisted.subscribe(payload, connection?.caller, connection?.correlationId ?? randomUUID())
          : { payload };
        if ('errors' in persisted) return await persisted.errors;
        return prepareSubscription(ctx, persisted.payload, schema, limits.perConnection);
      },
      // Each event's frame is written to the socket as the event is offered (not through
      // graphql-ws's per-message promise chain and JSON.stringify); graphql-ws still sends
      // the `error` and `complete` that end the subscription.
      onOperation: (ctx, id, _payload, _args, result) => {
        if (result instanceof DirectSubscription) result.writeTo(ctx.extra.socket, id);
      },
      onNext: (_ctx, _id, _payload, _args, result) => onNext(result),
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onClose: (ctx) => ctx.extra.connection?.end(),
    },
    wss,
    limits.keepAliveMs,
  );

  return {
    get size() {
      return wss.clients.size;
    },
    close: async () => {
      options.server.off('upgrade', onUpgrade);
      await graphqlWs.dispose();
      untrack();
    },
  };
}

/** Why an upgrade is refused (an HTTP status line), or undefined to accept it. */
function upgradeRefusal(request: IncomingMessage, path: string, corsOrigins: readonly string[]): string | undefined {
  const { pathname } = new URL(request.url ?? '/', 'http://gateway.invalid');
  if (pathname !== path) return '404 Not Found';
  // Cross-site websocket hijacking: a browser on a foreign page sends its own Origin.
  const origin = request.headers.origin;
  if (origin !== undefined && !corsOrigins.includes(origin) && !sameOrigin(origin, request.headers.host)) return '403 Forbidden';
  return undefined;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
