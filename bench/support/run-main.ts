// How a benchmark runs: its main function, cleanups that also run on SIGINT / SIGTERM, and
// a process that always exits by itself.

const cleanups = new Set<() => Promise<void>>();
let exiting = false;

/** Runs `cleanup` on exit, failure or Ctrl-C unless unregistered first. */
export function registerCleanup(cleanup: () => Promise<void>): void {
  cleanups.add(cleanup);
}

export function unregisterCleanup(cleanup: () => Promise<void>): void {
  cleanups.delete(cleanup);
}

/** Runs `cleanup` now if it is still registered (and unregisters it), logging a failure under `what`. */
export async function runCleanup(cleanup: (() => Promise<void>) | undefined, what: string): Promise<void> {
  if (!cleanup || !cleanups.has(cleanup)) return;
  cleanups.delete(cleanup);
  await cleanup().catch((error: unknown) => console.error(`[bench] cleanup of ${what} failed:`, error));
}

async function runCleanups(): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    await cleanup().catch((error: unknown) => console.error('[bench] cleanup failed:', error));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    console.error(`\n[bench] ${signal}: cleaning up`);
    const force = setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), 15_000);
    void runCleanups().finally(() => {
      clearTimeout(force);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  });
}

/**
 * Runs a benchmark's main function; exits with 1 on failure. If something (a pool, a
 * timer) still keeps the process alive 10 s after the work is done, says so and exits.
 */
export function runMain(main: () => Promise<void>): void {
  main()
    .catch((error: unknown) => {
      // After Ctrl-C the database is closed under the running work: not a benchmark failure.
      if (!exiting) console.error('\n[bench] FAILED:', error);
      process.exitCode = 1;
    })
    .finally(async () => {
      await runCleanups();
      setTimeout(() => {
        console.error('[bench] WARNING: open handles kept the process alive 10 s after the end; forcing exit');
        process.exit(process.exitCode ?? 0);
      }, 10_000).unref();
    });
}

/**
 * Lets timers, I/O and signal handlers run. On PGlite a chain of queries never leaves the
 * microtask queue (the database runs in-process), so without this a long benchmark loop
 * would not even see Ctrl-C until it ends.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
