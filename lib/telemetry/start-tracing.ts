/**
 * Imported first by cli/start.ts: starts tracing (tracing.ts) before the server's modules
 * load, so that the instrumentations see them; flushes the spans when the process stops.
 */
import { startTracing } from './tracing';

const tracing = startTracing();
if (tracing) {
  process.once('beforeExit', () => void tracing.shutdown());
}

export const tracingStarted = tracing !== undefined;
