import { EcsError, ErrorCode } from '../errors';

interface KeyState {
  running: number;
  waiting: Array<() => void>;
}

/**
 * Runs works per key in arrival order, at most `runningPerKey` at once, with a bounded
 * number of waiters per key. The ledger puts every transaction that appends to a chain
 * behind its chain's key. With two running per chain, one holds the chain-head lock and
 * the next has done its other statements and waits for that lock (so it appends the moment
 * the lock is free): at most one transaction per chain and process waits for the lock while
 * holding a pooled connection. The others wait here, holding nothing, so a hot chain cannot
 * take the pool from the other tenants.
 */
export class KeyedQueue {
  private readonly keys = new Map<string, KeyState>();

  /**
   * @param waitersPerKey works that may wait behind the running ones, per key
   * @param runningPerKey works that may run at once per key
   */
  constructor(
    private readonly waitersPerKey: number,
    private readonly runningPerKey = 1,
  ) {
    if (!Number.isInteger(waitersPerKey) || waitersPerKey < 0) throw new RangeError('waitersPerKey must be a non-negative integer');
    if (!Number.isInteger(runningPerKey) || runningPerKey < 1) throw new RangeError('runningPerKey must be a positive integer');
  }

  /** Works running under `key`. */
  running(key: string): number {
    return this.keys.get(key)?.running ?? 0;
  }

  /**
   * Runs `work` once fewer than `runningPerKey` works of `key` run and every earlier waiting
   * one has started. (The embedded database gives the event loop its turns itself:
   * pglite-turns.ts.)
   * @throws EcsError ECS_DEPENDENCY_UNAVAILABLE (503), before running anything, when
   *   `waitersPerKey` works are waiting already
   */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    let state = this.keys.get(key);
    if (!state) {
      state = { running: 0, waiting: [] };
      this.keys.set(key, state);
    }
    if (state.running >= this.runningPerKey) {
      if (state.waiting.length >= this.waitersPerKey) {
        throw new EcsError(ErrorCode.DependencyUnavailable, 'too many changes are waiting for the same evidence chain; retry shortly');
      }
      const current = state;
      // Woken by a finishing work, which hands its place over (running stays counted).
      await new Promise<void>((resolve) => current.waiting.push(resolve));
    } else {
      state.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = state.waiting.shift();
      if (next) next();
      else {
        state.running -= 1;
        if (state.running === 0 && this.keys.get(key) === state) this.keys.delete(key);
      }
    }
  }
}
