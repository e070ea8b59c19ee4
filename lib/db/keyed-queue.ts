import { EcsError, ErrorCode } from '../errors';

/**
 * Runs work one at a time per key, in arrival order, with a bounded number of waiters per
 * key. The ledger puts every transaction that appends to a chain behind its chain's key,
 * so at most one transaction per chain and process waits for the chain-head lock and
 * holds a pooled connection meanwhile; the others wait here, holding nothing, and a hot
 * chain cannot take the pool from the other tenants.
 */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class KeyedQueue {
  private readonly tails = new Map<string, { tail: Promise<void>; waiting: number }>();

  /** @param waitersPerKey works that may wait behind the running one, per key */
  constructor(private readonly waitersPerKey: number) {
    if (!Number.isInteger(waitersPerKey) || waitersPerKey < 0) throw new RangeError('waitersPerKey must be a non-negative integer');
  }

  /** Works waiting or running under `key`. */
  size(key: string): number {
    return this.tails.get(key)?.waiting ?? 0;
  }

  /**
   * Runs `work` after every earlier work of `key` settled.
   * @throws EcsError ECS_DEPENDENCY_UNAVAILABLE (503), before running anything, when
   *   `waitersPerKey` works are waiting already
   */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    let entry = this.tails.get(key);
    if (entry && entry.waiting > this.waitersPerKey) {
      return Promise.reject(
        new EcsError(ErrorCode.DependencyUnavailable, 'too many changes are waiting for the same evidence chain; retry shortly'),
      );
    }
    if (!entry) {
      entry = { tail: Promise.resolve(), waiting: 0 };
      this.tails.set(key, entry);
    }
    const current = entry;
    current.waiting += 1;
    // Each work starts on a turn of its own: an embedded database answers in microtasks, and
    // without the turn one busy key would run to its end before timers, I/O or other keys.
    const result = current.tail.then(nextTurn).then(work);
    current.tail = result.then(
      () => this.settle(key, current),
      () => this.settle(key, current),
    );
    return result;
  }

  private settle(key: string, entry: { waiting: number }): void {
    entry.waiting -= 1;
    if (entry.waiting === 0 && this.tails.get(key) === entry) this.tails.delete(key);
  }
}
