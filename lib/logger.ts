import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** One JSON logger per process; planes and requests take children of it. */
export function createLogger(options: {
  level: string;
  name?: string;
  /** Where lines go. @default standard output */
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.name ?? 'ecs-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
        censor: '[redacted]',
      },
    },
    options.destination,
  );
}
