import type { Fetcher, FetcherRequestInit } from '@apollo/utils.fetcher';

/**
 * Wraps a fetcher so every call gives up after `timeoutMs`, also when the caller
 * passed its own abort signal.
 */
export function timedFetcher(fetcher: Fetcher, timeoutMs: number): Fetcher {
  return (url: string, init?: FetcherRequestInit) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal as AbortSignal, timeout]) : timeout;
    return fetcher(url, { ...init, signal });
  };
}
