import type { Fetcher } from '@apollo/utils.fetcher';
import type { Plane } from '../lib/config/config';
import type { Database } from '../lib/db/database';

export interface ReadinessReport {
  ready: boolean;
  reasons: string[];
}

export interface ReadinessDependencies {
  db: Database;
  planes: readonly Plane[];
  healthUrl(plane: Plane): string;
  fetcher: Fetcher;
  supergraphLoaded(): boolean;
  timeoutMs: number;
}

/** Checks the database, every plane and the supergraph; lists what is not ready. */
export async function checkReadiness(deps: ReadinessDependencies): Promise<ReadinessReport> {
  const withTimeout = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), deps.timeoutMs).unref())]);
  const checks: Array<Promise<string | undefined>> = [
    withTimeout(deps.db.ping()).then(
      () => undefined,
      (error: Error) => `database: ${error.message.split('\n')[0]}`,
    ),
    ...deps.planes.map((plane) =>
      withTimeout(deps.fetcher(deps.healthUrl(plane), { method: 'GET' })).then(
        (response) => {
          // Read, so that the pooled connection is free again.
          void response.text().catch(() => undefined);
          return response.ok ? undefined : `${plane} plane: HTTP ${response.status}`;
        },
        (error: Error) => `${plane} plane: ${describeFailure(error)}`,
      ),
    ),
  ];
  const reasons = (await Promise.all(checks)).filter((reason): reason is string => reason !== undefined);
  if (!deps.supergraphLoaded()) reasons.push('supergraph: not loaded');
  return { ready: reasons.length === 0, reasons };
}

/** The reason's code (ECONNREFUSED, certificate errors, ...): on the error, or in `cause` as fetch() puts it. */
function describeFailure(error: Error): string {
  const { code, cause } = error as { code?: string; cause?: { code?: string; message?: string } };
  return cause?.code ?? cause?.message ?? code ?? error.message;
}
