import { createSourceEventStream, execute, print } from 'graphql';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { DirectSubscription } from './direct-subscription';
import type { EventExecution, ExecutionOutcome } from './direct-subscription';
import { nextPayloadText } from './next-message';
import type { NextPayload } from './next-message';

/** One event executed for one distinct request, and the `next` payload text made from it when first needed. */
interface SharedResult {
  result: ExecutionOutcome;
  payload?: Buffer | Promise<Buffer>;
}

/**
 * A graphql-ws `subscribe` that executes each event's selection once per distinct request
 * (document, operation, variables) instead of once per subscriber, and serialises the
 * `next` payload of that result once too: the stream offers the same event object to every
 * subscriber of a chain, so a thousand clients running the same subscription share one
 * execution and one JSON text, and each socket's frame only adds its subscription id
 * (see DirectSubscription). Otherwise it is graphql-js's `subscribe`.
 *
 * Sharing across callers is sound because `EvidenceEvent`'s resolvers read only the event,
 * never the context, and each caller's right to an event is checked before it is offered.
 * For the same reason `onNext` (the server's, applied to the shared result) must read only
 * the result.
 */
export function sharedExecutionSubscribe(options: {
  onNext: NextPayload;
}): (args: ExecutionArgs) => Promise<DirectSubscription | ExecutionResult> {
  const shared = new WeakMap<object, Map<string, SharedResult>>();
  const toPayload = (result: ExecutionResult) => nextPayloadText(result, options.onNext);
  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const key = `${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${print(args.document)}`;
    const sharedOf = (event: object): SharedResult => {
      let byRequest = shared.get(event);
      if (!byRequest) shared.set(event, (byRequest = new Map()));
      let entry = byRequest.get(key);
      if (!entry) byRequest.set(key, (entry = { result: execute({ ...args, rootValue: event }) }));
      return entry;
    };
    const execution: EventExecution = {
      resultOf: (event) => (typeof event === 'object' && event !== null ? sharedOf(event).result : execute({ ...args, rootValue: event })),
      payloadOf: (event) => {
        if (typeof event !== 'object' || event === null) return payloadOf({ result: execute({ ...args, rootValue: event }) }, toPayload);
        return payloadOf(sharedOf(event), toPayload);
      },
    };
    return new DirectSubscription(source as AsyncIterableIterator<unknown>, execution);
  };
}

function payloadOf(entry: SharedResult, toPayload: (result: ExecutionResult) => Buffer): Buffer | Promise<Buffer> {
  if (entry.payload === undefined) {
    const { result } = entry;
    entry.payload = result instanceof Promise ? result.then(toPayload) : toPayload(result);
  }
  return entry.payload;
}
