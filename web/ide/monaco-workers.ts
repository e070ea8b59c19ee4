/**
 * Monaco's editor, JSON and GraphQL language workers, bundled as files of their own and served
 * from the gateway (CSP `worker-src 'self'`): no blob: or data: workers, nothing remote.
 */
const WORKERS: Record<string, string> = {
  json: 'json.worker.js',
  graphql: 'graphql.worker.js',
};

export function setUpMonacoWorkers(assetBase: string): void {
  (globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
    getWorker(_workerId: string, label: string): Worker {
      return new Worker(`${assetBase}/${WORKERS[label] ?? 'editor.worker.js'}`);
    },
  };
}
