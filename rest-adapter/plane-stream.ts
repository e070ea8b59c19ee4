import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Response } from 'express';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import { IDENTITY_HEADER } from '../lib/auth/identity-token';
import type { IdentityTokens } from '../lib/auth/identity-token';
import type { Plane } from '../lib/config/config';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';

/** Answers up to this declared length are passed on in one write rather than streamed. */
const WHOLE_ANSWER_MAX_BYTES = 64 * 1024;

/** What a REST route needs to stream a request to a plane's HTTP route and its answer back. */
export interface PlaneStreamOptions {
  identityTokens: IdentityTokens;
  /** GraphQL endpoint of each plane; its streaming routes live on the same origin. */
  subgraphUrl(plane: Plane): string;
  /** The mTLS keep-alive pool to the planes (no overall timeout: streams may take long). */
  dispatcher: Dispatcher;
}

export interface PlaneStreamRequest {
  plane: Plane;
  /** Path on the plane's origin, raw (encoded) as it will be sent, with its query. */
  path: string;
  method: Dispatcher.HttpMethod;
  /** Request headers to pass on (the caller's signed identity and request id are added). */
  headers?: Record<string, string>;
  /** The request body to stream, when the method has one. */
  body?: Readable;
  /** Response headers passed back to the client; everything else stays here. */
  forwardedResponse: RegExp;
}

/**
 * Streams one request to a plane over mTLS with the caller's signed identity and streams
 * the answer (status, the forwarded headers, the body) back. Only an answer that declares a
 * length of at most 64 KiB is read whole and sent in one write (a stream costs more than
 * such a body); nothing larger is buffered. A client
 * that goes away aborts the upstream request. An upload the plane answered before it was
 * read to the end (a refusal) is not read further: the client's connection is closed.
 */
export async function streamToPlane(options: PlaneStreamOptions, res: Response, upstreamRequest: PlaneStreamRequest): Promise<void> {
  const { caller, requestId } = res.locals as AuthenticatedLocals;
  const target = new URL(upstreamRequest.path, options.subgraphUrl(upstreamRequest.plane));
  const abort = new AbortController();
  const onClientGone = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClientGone);
  try {
    const upstream = await request(target, {
      method: upstreamRequest.method,
      headers: {
        ...upstreamRequest.headers,
        'x-request-id': requestId,
        [IDENTITY_HEADER]: await options.identityTokens.sign(caller, upstreamRequest.plane),
      },
      body: upstreamRequest.body,
      dispatcher: options.dispatcher,
      signal: abort.signal,
    });
    const { body } = upstreamRequest;
    if (body && !body.readableEnded) {
      res.setHeader('connection', 'close');
      body.unpipe();
      body.resume();
    }
    const bodyless = upstreamRequest.method === 'HEAD' || upstream.statusCode === 204;
    // Read before the status and headers are set, so that an answer cut short is still a 503.
    const whole = bodyless ? undefined : await smallAnswerBody(upstream);
    res.status(upstream.statusCode);
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && upstreamRequest.forwardedResponse.test(name)) res.setHeader(name, value);
    }
    if (bodyless) {
      await upstream.body.dump();
      res.end();
    } else if (whole) res.end(whole);
    else await pipeline(upstream.body, res);
  } finally {
    res.off('close', onClientGone);
  }
}

/**
 * The whole body of a plane's answer that declares a length of at most 64 KiB (sent on in
 * one write: a stream costs more than such a body); `undefined`, nothing read, otherwise.
 */
export async function smallAnswerBody(answer: Pick<Dispatcher.ResponseData, 'headers' | 'body'>): Promise<Buffer | undefined> {
  if (!(Number(answer.headers['content-length']) <= WHOLE_ANSWER_MAX_BYTES)) return undefined;
  return Buffer.from(await answer.body.arrayBuffer());
}

/**
 * The answer when a stream to `plane` fails: a 503 naming the plane before anything was
 * sent, otherwise the connection is cut (a half-sent body must not look complete).
 */
export function streamFailed(res: Response, plane: Plane): (cause: unknown) => void {
  return (cause) => {
    (res.locals as Partial<AuthenticatedLocals>).log?.warn({ err: cause }, `${plane} plane stream failed`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, new EcsError(ErrorCode.DependencyUnavailable, `the ${plane} plane is not reachable`));
  };
}
