import { STATUS_CODES } from 'node:http';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { request } from 'undici';
import type { Dispatcher } from 'undici';

/**
 * Apollo's `Fetcher` on undici's `request` rather than its WHATWG `fetch`: the calls from
 * the gateway to the planes and between planes are JSON over a pooled mTLS connection, and
 * fetch's web streams, abort plumbing and per-call objects cost more CPU than the call.
 * No redirects are followed (a plane never redirects). Read the body (`text`, `json`,
 * `arrayBuffer`) or the connection stays busy until the response is collected.
 *
 * `request` looks at its abort signal only once connected: a plane that accepts the TCP
 * connection but never completes the TLS handshake (a stopped process) would hold the
 * caller for the agent's connect timeout. So the signal also rejects the call itself, at
 * once, as fetch does; a response that arrives after that is discarded.
 */
export function requestFetcher(dispatcher: Dispatcher): Fetcher {
  return (url, init = {}) => {
    const signal = init.signal as AbortSignal | undefined;
    const pending = request(url, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: init.headers,
      body: init.body,
      signal,
      dispatcher,
    });
    if (!signal) return pending.then((response) => new RequestResponse(url, response));
    return new Promise<FetcherResponse>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason ?? new Error('the request was aborted'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (response) => {
          signal.removeEventListener('abort', onAbort);
          if (signal.aborted) response.body.destroy();
          else resolve(new RequestResponse(url, response));
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  };
}

class RequestResponse implements FetcherResponse {
  readonly redirected = false;
  #headers: Headers | undefined;
  #bodyUsed = false;

  constructor(
    readonly url: string,
    private readonly response: Dispatcher.ResponseData,
  ) {}

  /** Built when first read: most callers look at the content type only, or not at all. */
  get headers(): Headers {
    if (this.#headers) return this.#headers;
    const headers = new Headers();
    for (const [name, value] of Object.entries(this.response.headers)) {
      if (Array.isArray(value)) for (const each of value) headers.append(name, each);
      else if (value !== undefined) headers.append(name, value);
    }
    this.#headers = headers;
    return headers;
  }

  get status(): number {
    return this.response.statusCode;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }

  get bodyUsed(): boolean {
    return this.#bodyUsed;
  }

  text(): Promise<string> {
    this.#bodyUsed = true;
    return this.response.body.text();
  }

  json(): Promise<unknown> {
    this.#bodyUsed = true;
    return this.response.body.json();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    this.#bodyUsed = true;
    return this.response.body.arrayBuffer();
  }

  clone(): FetcherResponse {
    throw new Error('a response of requestFetcher cannot be cloned; read its body once');
  }
}
