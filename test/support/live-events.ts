// Real clients of the live audit events: graphql-ws over `ws` (as a Node application would
// use it) and an SSE reader over HTTP, plus a fast way to commit events through the ledger.
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { createClient } from 'graphql-ws';
import type { Client } from 'graphql-ws';
import { request } from 'undici';
import WebSocket from 'ws';
import type { Database } from '../../lib/db/database';
import type { EvidenceInput, Outcome } from '../../lib/evidence/evidence-event';
import { appendEvidence, evidenceTransaction } from '../../lib/evidence/ledger';

export const AUDIT_EVENTS = `subscription($tenantId: ID, $eventTypes: [String!], $outcomes: [Outcome!], $afterSequence: Int) {
  auditEvents(tenantId: $tenantId, eventTypes: $eventTypes, outcomes: $outcomes, afterSequence: $afterSequence) {
    id eventType tenantId outcome sequence chainId eventHash prevHash evidencePointer correlationId occurredAt actor details
  }
}`;

export interface LiveEvent {
  id: string;
  eventType: string;
  tenantId: string;
  outcome: string;
  sequence: number;
  chainId: string;
  eventHash: string;
  prevHash: string | null;
  evidencePointer: string;
  correlationId: string;
  occurredAt: string;
  actor: string;
  details: Record<string, unknown>;
}

/** A close event as graphql-ws rejects with it. */
export interface CloseEventLike {
  code: number;
  reason: string;
}

/** Every WebSocket the clients of this module opened, so a test can pause one (a slow consumer). */
export const openedSockets: WebSocket[] = [];

class TrackedWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    openedSockets.push(this);
  }
}

export type Credentials = { token: string } | { apiKey: string } | Record<string, unknown>;

/** A graphql-ws client of the gateway with `retryAttempts: 0` (every close is visible). */
export function liveClient(baseUrl: string, credentials: Credentials | undefined): Client {
  const connectionParams =
    credentials && 'token' in credentials
      ? { authorization: `Bearer ${String(credentials.token)}` }
      : credentials && 'apiKey' in credentials
        ? { 'x-api-key': credentials.apiKey }
        : credentials;
  return createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: TrackedWebSocket,
    connectionParams: connectionParams as Record<string, unknown> | undefined,
    retryAttempts: 0,
    lazy: true,
  });
}

export interface Subscription<T = LiveEvent> {
  /** Events received so far, in order. */
  events: T[];
  /** Resolves once `count` events have arrived (rejects with the close event or error, or after `timeoutMs`). */
  next(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves with how the subscription ended: a close event, GraphQL errors, or 'complete'. */
  ended: Promise<CloseEventLike | ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> | 'complete'>;
  dispose(): void;
}

/** Subscribes to `auditEvents` and collects what arrives. */
export function subscribe(client: Client, variables: Record<string, unknown> = {}, query = AUDIT_EVENTS): Subscription {
  const events: LiveEvent[] = [];
  let notify: () => void = () => undefined;
  let settle!: (value: Awaited<Subscription['ended']>) => void;
  const ended = new Promise<Awaited<Subscription['ended']>>((resolve) => (settle = resolve));
  let outcome: Awaited<Subscription['ended']> | undefined;
  const dispose = client.subscribe<{ auditEvents: LiveEvent }>(
    { query, variables },
    {
      next: (message) => {
        if (message.errors) {
          outcome = message.errors as ReadonlyArray<{ message: string }>;
          settle(outcome);
        } else if (message.data) events.push(message.data.auditEvents);
        notify();
      },
      error: (error) => {
        outcome = (Array.isArray(error) ? error : error) as Awaited<Subscription['ended']>;
        settle(outcome);
        notify();
      },
      complete: () => {
        outcome ??= 'complete';
        settle(outcome);
        notify();
      },
    },
  );
  return {
    events,
    ended,
    dispose,
    next: (count, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${events.length} of ${count} events within ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (events.length >= count) {
            clearTimeout(timer);
            resolve(events.slice(0, count));
          } else if (outcome !== undefined) {
            clearTimeout(timer);
            reject(Object.assign(new Error(`ended after ${events.length} events: ${inspect(outcome, { depth: 3 })}`), { outcome }));
          }
        };
        notify = check;
        check();
      }),
  };
}

/**
 * Waits `ms` (to let a subscription start, or to pace a writer). A wait proves nothing about
 * what has not arrived yet: to show that nothing more arrives, commit a marker event after the
 * ones that must not arrive and wait for the marker.
 */
export const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the gateway's evidence stream serves exactly `count` subscriptions: those a test
 * opened are then registered and receive what is committed next. A fixed wait raced the
 * registration on a loaded machine (the first event was committed before one subscription
 * existed, which then saw three of four). The count holds only if an earlier test's
 * subscriptions have gone: wait for 0 after closing them (a closed socket is forgotten by the
 * gateway a moment later, and one left over stood in for a new one not yet registered).
 */
export async function subscriptionsOpen(stream: { readonly size: number }, count: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stream.size !== count) {
    if (Date.now() > deadline)
      throw new Error(`the evidence stream serves ${stream.size} subscriptions, not ${count}, after ${timeoutMs} ms`);
    await settle(10);
  }
}

/** Commits `count` events to a tenant's chain through the ledger, `perTransaction` per transaction. */
export async function commitEvents(
  db: Database,
  tenantId: string,
  count: number,
  options: EventOptions & { perTransaction?: number } = {},
): Promise<void> {
  const perTransaction = options.perTransaction ?? 1;
  for (let done = 0; done < count; ) {
    const batch = Math.min(perTransaction, count - done);
    const first = done;
    await evidenceTransaction(db, tenantId, async (tx) => {
      for (let i = 0; i < batch; i += 1) await appendEvidence(tx, testEvent(tenantId, first + i, options));
    });
    done += batch;
  }
}

export interface EventOptions {
  eventType?: string | ((n: number) => string);
  outcome?: Outcome | ((n: number) => Outcome);
  /** Characters of filler in the event's details. @default 200 */
  padding?: number;
}

export function testEvent(tenantId: string, n: number, options: EventOptions = {}): EvidenceInput {
  const eventType = typeof options.eventType === 'function' ? options.eventType(n) : (options.eventType ?? 'workload.admit');
  const outcome = typeof options.outcome === 'function' ? options.outcome(n) : (options.outcome ?? 'accepted');
  return {
    tenantId,
    eventType,
    actor: 'live-events-test',
    outcome,
    correlationId: randomUUID(),
    details: { n, padding: 'x'.repeat(options.padding ?? 200) },
    ...(outcome === 'refused'
      ? { refusal: { reasonClass: 'policy_denied', reasonCode: 'test_refusal', subject: eventType, reason: 'test' } }
      : {}),
  };
}

/** Sequences 1..n (or from..to). */
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** JSON error body when the status is not 200. */
  body?: Record<string, unknown>;
  events: SseEvent[];
  /** Comment lines received (`: keepalive`). */
  comments: string[];
  next(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server has ended the response. */
  closed: Promise<void>;
  close(): void;
}

/** `GET <path>` read as Server-Sent Events with a plain HTTP client (undici). */
export async function openSse(baseUrl: string, path: string, headers: Record<string, string>): Promise<SseStream> {
  const controller = new AbortController();
  const response = await request(`${baseUrl}${path}`, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const stream: SseStream = {
    status: response.statusCode,
    headers: response.headers,
    events: [],
    comments: [],
    next: async () => [],
    closed: Promise.resolve(),
    close: () => controller.abort(),
  };
  if (response.statusCode !== 200) {
    stream.body = (await response.body.json()) as Record<string, unknown>;
    return stream;
  }
  let notify: () => void = () => undefined;
  let buffer = '';
  let done = false;
  stream.closed = (async () => {
    try {
      for await (const chunk of response.body) {
        buffer += (chunk as Buffer).toString('utf8');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length) {
            event.data = data.join('\n');
            stream.events.push(event);
          }
          notify();
        }
      }
    } catch {
      // Aborted by the test.
    } finally {
      done = true;
      notify();
    }
  })();
  stream.next = (count, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${stream.events.length} of ${count} SSE events within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const check = () => {
        if (stream.events.length >= count) {
          clearTimeout(timer);
          resolve(stream.events.slice(0, count));
        } else if (done) {
          clearTimeout(timer);
          reject(new Error(`stream ended after ${stream.events.length} events`));
        }
      };
      notify = check;
      check();
    });
  return stream;
}
