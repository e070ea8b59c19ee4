/** How often the parent is looked at: a stop within a second of its death is soon enough. */
const CHECK_EVERY_MS = 1000;

/**
 * Calls `onOrphaned` once when the process that started this one is gone (the process is
 * re-parented, so `process.ppid` changes). Under `npm start` the server's parent is npm:
 * when npm dies without passing a signal on (SIGKILL, a crashed terminal), the server
 * stops instead of answering on as an orphan. The timer never keeps the process alive.
 */
export function watchParent(onOrphaned: () => void, getParent: () => number = () => process.ppid): () => void {
  const parent = getParent();
  const timer = setInterval(() => {
    if (getParent() === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** True when npm (or another package manager running a package.json script) started this process. */
export function startedByPackageScript(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.npm_lifecycle_event !== undefined;
}
