import type { Readable } from 'node:stream';
import type { Response } from 'express';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import type { AuthenticatedLocals } from '../../gateway/authenticate';
import { IDENTITY_HEADER } from '../../lib/auth/identity-token';
import type { PlaneStreamOptions } from '../plane-stream';
import { fromEcsCode, sendS3Error } from './s3-error-document';

/** The data plane's answer, its body not read yet. */
export type PlaneAnswer = Dispatcher.ResponseData;

/**
 * Sends one request to the data plane's storage routes over mTLS with the caller's signed
 * identity, and hands back the answer unread so the S3 route can shape it. A client that goes
 * away aborts the upstream request.
 */
export async function dataPlaneRequest(
  options: PlaneStreamOptions,
  res: Response,
  upstream: { path: string; method: Dispatcher.HttpMethod; headers: Record<string, string>; body?: Readable },
): Promise<PlaneAnswer> {
  const { caller, requestId } = res.locals as AuthenticatedLocals;
  const abort = new AbortController();
  const onClientGone = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClientGone);
  const release = () => res.off('close', onClientGone);
  try {
    const answer = await request(new URL(upstream.path, options.subgraphUrl('data')), {
      method: upstream.method,
      headers: { ...upstream.headers, 'x-request-id': requestId, [IDENTITY_HEADER]: await options.identityTokens.sign(caller, 'data') },
      body: upstream.body,
      dispatcher: options.dispatcher,
      signal: abort.signal,
    });
    answer.body.once('close', release);
    return answer;
  } catch (error) {
    release();
    throw error;
  }
}

/** The ECS error of a refused plane answer (its JSON body; a HEAD has none, so the status speaks). */
export async function planeError(answer: PlaneAnswer): Promise<{ code: string; message: string; evidencePointer?: string }> {
  const text = await answer.body.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; evidence_pointer?: unknown };
    if (typeof body.code === 'string') {
      return {
        code: body.code,
        message: typeof body.message === 'string' ? body.message : '',
        evidencePointer: typeof body.evidence_pointer === 'string' ? body.evidence_pointer : undefined,
      };
    }
  } catch {
    // not JSON: fall back to the status
  }
  const byStatus: Record<number, string> = {
    403: 'ECS_FORBIDDEN',
    404: 'ECS_NOT_FOUND',
    409: 'ECS_CONFLICT',
    503: 'ECS_DEPENDENCY_UNAVAILABLE',
  };
  return { code: byStatus[answer.statusCode] ?? 'ECS_INTERNAL', message: 'the request was refused' };
}

export type PlaneError = Awaited<ReturnType<typeof planeError>>;

/**
 * One page of a bucket listing from the data plane (`GET /data/storage/{bucket}/objects?<query>`:
 * current objects, `versions` or `uploads`). A refusal is answered in S3's form (after `refine`,
 * which may throw a more precise S3 error) and gives undefined.
 */
export async function planeBucketListing<T>(
  options: PlaneStreamOptions,
  res: Response,
  bucket: string,
  query: string,
  refine?: (error: PlaneError) => void,
): Promise<T | undefined> {
  const answer = await dataPlaneRequest(options, res, {
    path: `/data/storage/${encodeURIComponent(bucket)}/objects?${query}`,
    method: 'GET',
    headers: {},
  });
  if (answer.statusCode < 300) return (await answer.body.json()) as T;
  const error = await planeError(answer);
  refine?.(error);
  sendS3Error(res, fromEcsCode(error.code, error.message, 'bucket', error.evidencePointer), `/${bucket}`);
  return undefined;
}
