import type { Readable } from 'node:stream';
import { request } from 'undici';

export interface OpenSourcePackageOptions {
  /** Until the source's answer headers arrive. @default 10000 */
  headersTimeoutMs?: number;
  /** Longest pause between two pieces of the body. @default 60000 */
  bodyTimeoutMs?: number;
}

/** A package pulled from its source: the body, streamed, and the length the source declared. */
export interface SourcePackage {
  body: Readable;
  declaredLength: number | undefined;
}

const PACKAGE_TYPES = /^application\/(gzip|x-gzip|octet-stream)\b/i;

/**
 * Opens a tenant export package on its source deployment (`GET /v1/migrations/exports/{id}/package`
 * there): http(s) only, no redirects, the bearer token sent to that URL alone and never kept, the
 * answer a gzip body with status 200. The body streams: the caller bounds its size.
 * @throws Error naming what went wrong (the import's refusal reports it)
 */
export async function openSourcePackage(
  url: string,
  token: string | undefined,
  { headersTimeoutMs = 10_000, bodyTimeoutMs = 60_000 }: OpenSourcePackageOptions = {},
): Promise<SourcePackage> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`${parsed.protocol} is not http or https`);
  const headers: Record<string, string> = { accept: 'application/gzip' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await request(parsed, { method: 'GET', headers, headersTimeout: headersTimeoutMs, bodyTimeout: bodyTimeoutMs });
  const type = String(response.headers['content-type'] ?? '');
  if (response.statusCode !== 200 || !PACKAGE_TYPES.test(type)) {
    // Not read: let it go (an error listener, as destroying an unread undici body reports an abort).
    response.body.on('error', () => undefined).destroy();
    throw new Error(
      response.statusCode !== 200
        ? `the source answered ${response.statusCode}`
        : `the source answered ${type || 'no content type'}, not a package`,
    );
  }
  const length = Number(response.headers['content-length']);
  return { body: response.body, declaredLength: Number.isSafeInteger(length) && length >= 0 ? length : undefined };
}
