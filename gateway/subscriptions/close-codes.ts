/**
 * Close codes of the live-event websocket: graphql-ws's own (4401, 4403, 4408, 4429 for a
 * second connection_init, 4500) plus the gateway's. Documented in docs/subscriptions.md.
 */
export const CloseCode = {
  /** Missing, invalid or expired credentials; also a subscribe before connection_ack. Reconnect with fresh credentials. */
  Unauthenticated: 4401,
  /** A valid caller without `evidence.read`, or a subscription to a tenant outside the caller's scope. */
  Forbidden: 4403,
  /** No connection_init within 3 s (graphql-ws). */
  InitialisationTimeout: 4408,
  /** The client did not keep up: `SUBSCRIPTION_BUFFER` events waited for it. Reconnect and resume from the last sequence. */
  SlowConsumer: 4413,
  /** More than `SUBSCRIPTIONS_PER_PRINCIPAL` open connections of one principal (graphql-ws: a second connection_init). */
  TooManyConnections: 4429,
  /** The server shuts down (graphql-ws). Reconnect and resume. */
  GoingAway: 1001,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** WebSocket close reasons are at most 123 bytes of UTF-8. */
const MAX_REASON_BYTES = 123;

/** `<ECS code> <evidence pointer>` when there is one (it fits), otherwise `<ECS code>: <message>`, cut to 123 bytes. */
export function closeReason(code: string, detail: { message: string; evidencePointer?: string }): string {
  const text = detail.evidencePointer ? `${code} ${detail.evidencePointer}` : `${code}: ${detail.message}`;
  let reason = text;
  while (Buffer.byteLength(reason) > MAX_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}
