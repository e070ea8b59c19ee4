import type { RefusalThrottle } from '../../lib/evidence/refusal-throttle';
import { randomUUID } from 'node:crypto';
import type { Context } from 'graphql-ws';
import type { Extra as WsExtra } from 'graphql-ws/use/ws';
import type { WebSocket } from 'ws';
import type { Caller } from '../../lib/auth/caller';
import type { SubscriptionConfig } from '../../lib/config/config';
import type { Database } from '../../lib/db/database';
import { EcsError, ErrorCode } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Identify } from '../authenticate';
import { authorize } from '../../lib/subgraph/authorize';
import { DeliveryBudget } from '../../lib/evidence/live/delivery-budget';
import { CloseCode, closeReason } from './close-codes';
import { onCredentialExpiry } from './credential-expiry';
import type { PrincipalConnections } from './principal-connections';

/** What one authenticated websocket connection carries. */
export interface Connection {
  caller: Caller;
  correlationId: string;
  /** The connection's bounded buffer, shared by its subscriptions. */
  budget: DeliveryBudget;
  socket: WebSocket;
  /** Frees the principal's connection slot and stops the expiry timer. */
  end(): void;
}

/** What the gateway keeps on graphql-ws's per-socket `extra` (beside `socket` and `request`). */
export type ConnectionExtra = { connection: Connection };
export type SocketContext = Context<Record<string, unknown>, WsExtra & Partial<ConnectionExtra>>;

export interface ConnectOptions {
  db: Database;
  identify: Identify;
  connections: PrincipalConnections;
  limits: SubscriptionConfig;
  log: Logger;
  /** Bounded evidence for refusals of repeated connections and subscribe messages. */
  throttle: RefusalThrottle;
}

/** The credentials of a connection_init payload: `authorization` ("Bearer ...") or `x-api-key` (any letter case). */
export function credentialsOf(params: Readonly<Record<string, unknown>> | undefined): { authorization?: string; apiKey?: string } {
  const credentials: { authorization?: string; apiKey?: string } = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    const key = name.toLowerCase();
    if (key !== 'authorization' && key !== 'x-api-key') continue;
    // A value of another type is presented as is, and refused as malformed.
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (key === 'authorization') credentials.authorization = text;
    else credentials.apiKey = text;
  }
  return credentials;
}

/**
 * connection_init: authenticate (else 4401), authorise reading evidence at all (else 4403),
 * count the principal (else 4429), and close with 4401 when the credentials expire.
 * Returns whether to acknowledge.
 */
export async function connect(ctx: SocketContext, options: ConnectOptions): Promise<boolean> {
  const { socket, request } = ctx.extra;
  const correlationId = randomUUID();
  const identified = await options.identify(credentialsOf(ctx.connectionParams), {
    address: request.socket.remoteAddress,
    subject: 'WS /graphql',
    correlationId,
    log: options.log,
  });
  if (!identified.ok) {
    socket.close(CloseCode.Unauthenticated, closeReason(ErrorCode.Unauthenticated, identified));
    return false;
  }
  const { caller } = identified;
  try {
    await authorize({ db: options.db, caller, correlationId, refusals: options.throttle }, 'evidence.read', caller.tenantId);
  } catch (error) {
    const refusal = error instanceof EcsError ? error : new EcsError(ErrorCode.Internal, 'internal error', { internal: error });
    if (refusal.code === ErrorCode.Internal) options.log.error({ err: error }, 'subscription authorisation failed');
    socket.close(refusal.code === ErrorCode.Forbidden ? CloseCode.Forbidden : 4500, closeReason(refusal.code, refusal));
    return false;
  }
  const release = options.connections.acquire(caller);
  if (!release) {
    const message = `at most ${options.limits.connectionsPerPrincipal} open connections per principal`;
    socket.close(CloseCode.TooManyConnections, closeReason(ErrorCode.RateLimited, { message }));
    return false;
  }
  // The client may have gone while it was being authenticated: then nobody would free the slot.
  if (socket.readyState !== socket.OPEN) {
    release();
    return false;
  }
  const cancelExpiry = onCredentialExpiry(caller.expiresAt, () =>
    socket.close(
      CloseCode.Unauthenticated,
      closeReason(ErrorCode.Unauthenticated, { message: 'credentials expired; reconnect with fresh ones and resume' }),
    ),
  );
  ctx.extra.connection = {
    caller,
    correlationId,
    budget: new DeliveryBudget(options.limits.bufferEvents),
    socket,
    end: () => {
      cancelExpiry();
      release();
    },
  };
  return true;
}
