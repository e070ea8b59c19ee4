import type { ExecutionResult, FormattedExecutionResult } from 'graphql';

/**
 * The server's `onNext`, called once per shared result rather than once per subscriber:
 * it must depend on the result alone. Returns the payload to send instead, or undefined
 * to send the result as graphql-ws would.
 */
export type NextPayload = (result: ExecutionResult) => ExecutionResult | FormattedExecutionResult | undefined;

/**
 * The JSON text of a `next` message's payload, exactly as graphql-ws's server writes it for
 * a result (`onNext`'s replacement, else the result with its errors as JSON, or without an
 * `errors` key when there are none), as UTF-8. The server sets no `jsonMessageReplacer`;
 * one would have to be applied here too.
 */
export function nextPayloadText(result: ExecutionResult, onNext: NextPayload): Buffer {
  const { errors, ...withoutErrors } = result;
  const payload = onNext(result) || { ...withoutErrors, ...(errors ? { errors: errors.map((error) => error.toJSON()) } : {}) };
  return Buffer.from(JSON.stringify(payload));
}

/** `{"id":<id>,"type":"next","payload":` with the subscription's id: what its frames start with. */
export function nextFramePrefix(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}

const CLOSING_BRACE = 0x7d;

/**
 * One `next` message, byte for byte what graphql-ws's `JSON.stringify({ id, type, payload })`
 * gives: the subscription's prefix, the payload text shared by every subscriber of the same
 * request, and the closing brace.
 */
export function nextFrame(prefix: Buffer, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(prefix.length + payload.length + 1);
  prefix.copy(frame, 0);
  payload.copy(frame, prefix.length);
  frame[frame.length - 1] = CLOSING_BRACE;
  return frame;
}
