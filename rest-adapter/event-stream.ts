import type { Request, RequestHandler, Response } from 'express';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import { onCredentialExpiry } from '../gateway/subscriptions/credential-expiry';
import { openAuditStream } from '../gateway/subscriptions/open-audit-stream';
import type { PrincipalConnections } from '../gateway/subscriptions/principal-connections';
import type { Database } from '../lib/db/database';
import { EcsError, ErrorCode } from '../lib/errors';
import type { StoredEvent } from '../lib/evidence/stored-event';
import { DeliveryBudget } from '../lib/evidence/live/delivery-budget';
import type { EvidenceStream } from '../lib/evidence/live/evidence-stream';
import { eventStreamQuery } from './event-stream-query';
import { validationError } from './rest-router';

const commaList = (value: string | undefined) =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export interface EventStreamOptions {
  stream: EvidenceStream;
  db: Database;
  connections: PrincipalConnections;
  /** Events that may wait for a slow client before the stream ends with ECS_SLOW_CONSUMER. */
  bufferEvents: number;
  /** Interval of the `: keepalive` comment lines. */
  keepAliveMs: number;
}

/** How long a client that does not read gets to take the final `end` event before the connection is cut. */
const END_GRACE_MS = 5000;

/**
 * `GET /v1/events/stream`: Server-Sent Events from the same source as the websocket
 * subscription. Each event is `id: <sequence>` (tenant streams; resume with
 * `Last-Event-ID`) and `data: <the event's canonical JSON>`; a stream the server ends
 * says why first (`event: end`, `data: {code, message}`). Errors before the first byte
 * use the REST error body.
 */
export function eventStreamHandler(options: EventStreamOptions): RequestHandler {
  return (req, res, next) => {
    serveEventStream(options, req, res).catch(next);
  };
}

function resumePoint(lastEventId: string | undefined, afterSequence: number | undefined): number | undefined {
  if (lastEventId === undefined) return afterSequence;
  if (!/^\d{1,10}$/.test(lastEventId.trim())) {
    throw new EcsError(ErrorCode.BadRequest, 'Last-Event-ID must be the sequence of the last event received', { field: 'Last-Event-ID' });
  }
  return Number(lastEventId.trim());
}

async function serveEventStream(options: EventStreamOptions, req: Request, res: Response): Promise<void> {
  const { caller, requestId } = res.locals as AuthenticatedLocals;
  const parsed = eventStreamQuery.safeParse(req.query);
  if (!parsed.success) throw validationError(parsed.error, 'query');
  const query = parsed.data;
  const lastEventId = req.headers['last-event-id'];
  const afterSequence = resumePoint(Array.isArray(lastEventId) ? lastEventId[0] : lastEventId, query.after_sequence);
  const release = options.connections.acquire(caller);
  if (!release) {
    throw new EcsError(ErrorCode.RateLimited, `at most ${options.connections.limit} open event streams and websockets per principal`);
  }
  let ending: { code: ErrorCode; message: string } | undefined;
  let interrupt!: () => void;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  let subscriber;
  try {
    subscriber = await openAuditStream({
      stream: options.stream,
      db: options.db,
      caller,
      correlationId: requestId,
      args: { tenantId: query.tenant, eventTypes: commaList(query.event_type), outcomes: commaList(query.outcome), afterSequence },
      budget: new DeliveryBudget(options.bufferEvents),
      onOverflow: () => {
        ending ??= { code: ErrorCode.SlowConsumer, message: 'too many events waited; reconnect with Last-Event-ID' };
        interrupt();
      },
    });
  } catch (error) {
    release();
    throw error;
  }
  const live = subscriber;
  const withIds = (query.tenant ?? caller.tenantId) !== undefined;

  res.status(200);
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache, no-transform');
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  res.write(': ecs live audit events\n\n');

  const keepAlive = setInterval(() => res.write(': keepalive\n\n'), options.keepAliveMs);
  const cancelExpiry = onCredentialExpiry(caller.expiresAt, () => {
    ending ??= { code: ErrorCode.Unauthenticated, message: 'credentials expired; reconnect with fresh ones and Last-Event-ID' };
    interrupt();
    void live.return();
  });
  res.on('close', () => void live.return());
  try {
    for await (const event of live) {
      if (!res.write(frame(event, withIds))) await Promise.race([drained(res), interrupted]);
    }
  } catch (error) {
    ending ??= error instanceof EcsError ? error : { code: ErrorCode.Internal, message: 'the stream failed; reconnect with Last-Event-ID' };
  } finally {
    clearInterval(keepAlive);
    cancelExpiry();
    release();
  }
  if (res.destroyed || res.writableEnded) return;
  if (ending) res.write(`event: end\ndata: ${JSON.stringify({ code: ending.code, message: ending.message })}\n\n`);
  res.end();
  const cut = setTimeout(() => res.destroy(), END_GRACE_MS);
  cut.unref();
  res.once('close', () => clearTimeout(cut));
}

function frame(event: StoredEvent, withId: boolean): string {
  // The canonical text is the event exactly as hashed: one line, snake_case, with event_hash.
  return `${withId ? `id: ${event.envelope.sequence}\n` : ''}data: ${event.canonical}\n\n`;
}

/** Resolves when the client has taken what was written, or is gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
