import type { PGlite } from '@electric-sql/pglite';

const OPERATIONS = new Set<PropertyKey>(['query', 'exec', 'transaction']);

/**
 * The embedded database runs in this thread, and its operations resolve in microtasks: one
 * caller after another would be served back to back (a burst of appends, a hot chain) and
 * timers, I/O and HTTP requests would wait for the whole run. This view of `pglite` runs its
 * top-level operations (`query`, `exec`, `transaction`) one at a time, in arrival order,
 * each on a turn of the event loop of its own. Queries inside a transaction are not
 * affected (they run on the transaction's handle); everything else is `pglite` itself.
 */
export function withEventLoopTurns(pglite: PGlite): PGlite {
  let tail: Promise<unknown> = Promise.resolve();
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const inTurn = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = tail.then(nextTurn).then(operation);
    tail = result.catch(() => undefined);
    return result;
  };
  return new Proxy(pglite, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (OPERATIONS.has(property)) {
        return (...args: unknown[]) => inTurn(() => method.apply(target, args) as Promise<unknown>);
      }
      return method.bind(target);
    },
  });
}
