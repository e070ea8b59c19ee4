import { Session } from 'node:inspector/promises';

/** A V8 CPU profile of this process's main thread from start to stop. */
export interface RunningProfile {
  /** Stops the profiler; the profile as JSON (a `.cpuprofile` file's text). */
  stop(): Promise<string>;
}

/** Starts a V8 CPU profile of this process's main thread. */
export async function startProfile(): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return JSON.stringify(profile);
    },
  };
}
