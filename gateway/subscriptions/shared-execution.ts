import { createSourceEventStream, execute, print } from 'graphql';
import type { ExecutionArgs, ExecutionResult } from 'graphql';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * A graphql-ws `subscribe` that executes each event's selection once per distinct request
 * (document, operation, variables) instead of once per subscriber: the stream offers the
 * same event object to every subscriber of a chain, so a thousand clients running the
 * same subscription share one execution of it. Otherwise it is graphql-js's `subscribe`.
 *
 * Sharing across callers is sound because `EvidenceEvent`'s resolvers read only the event,
 * never the context, and each caller's right to an event is checked before it is offered.
 */
export function sharedExecutionSubscribe(): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const results = new WeakMap<object, Map<string, Result>>();
  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const events = source as AsyncIterableIterator<unknown>;
    const key = `${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${print(args.document)}`;
    const resultOf = (event: unknown): Result => {
      if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
      let byRequest = results.get(event);
      if (!byRequest) results.set(event, (byRequest = new Map()));
      let result = byRequest.get(key);
      if (!result) byRequest.set(key, (result = execute({ ...args, rootValue: event })));
      return result;
    };
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        const step = await events.next();
        return step.done ? { done: true, value: undefined } : { done: false, value: await resultOf(step.value) };
      },
      async return() {
        await events.return?.(undefined);
        return { done: true, value: undefined };
      },
      async throw(error: unknown) {
        await events.return?.(undefined);
        throw error;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return mapped;
  };
}
