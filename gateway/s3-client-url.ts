import type { IncomingMessage } from 'node:http';

/** The URL an S3 client sent, for requests the S3 port moved under the path prefix. */
const clientUrls = new WeakMap<IncomingMessage, string>();

/**
 * Serves a request of the S3 port (bare root: `/bucket/key`) through the gateway's app by
 * moving it under the S3 path prefix; the URL the client signed is kept for SigV4.
 */
export function moveUnderPrefix(req: IncomingMessage, prefix: string): void {
  const url = req.url ?? '/';
  clientUrls.set(req, url);
  req.url = `${prefix}${url.startsWith('/') ? url : `/${url}`}`;
}

/** The request's URL as the client sent and signed it. */
export function clientUrlOf(req: IncomingMessage & { originalUrl: string }): string {
  return clientUrls.get(req) ?? req.originalUrl;
}
