import type { ServerResponse } from 'node:http';

/**
 * A getter of the signal that aborts once the caller has gone without its answer (the
 * connection closed before the response finished). The controller and its listener are made
 * on the first call only: most requests never ask. Asked after the caller has gone, the
 * signal is aborted already.
 */
export function abandonmentSignal(res: ServerResponse): () => AbortSignal {
  let controller: AbortController | undefined;
  return () => {
    if (controller) return controller.signal;
    const made = new AbortController();
    controller = made;
    if (res.destroyed && !res.writableFinished) made.abort();
    else
      res.once('close', () => {
        if (!res.writableFinished) made.abort();
      });
    return made.signal;
  };
}
