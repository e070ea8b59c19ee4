import { canonicalQuery, canonicalUri, type QueryParameter } from './sigv4-encoding';
import { SIGV4_ALGORITHM, sha256Hex } from './sigv4-crypto';

/** Header values by lower-case name; a repeated header as an array of its values. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What SigV4 signs of an HTTP request, as the server received it. */
export interface SignableRequest {
  method: string;
  /** The path as received, still percent-encoded, without the query string. */
  rawPath: string;
  /** The query string as received, without `?`. */
  rawQuery: string;
  headers: RequestHeaders;
}

/** A header's value for signing: values trimmed, runs of white space made one space, repeats joined by `,`. */
export function canonicalHeaderValue(value: string | readonly string[] | undefined): string {
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return values.map((one) => one.trim().replace(/\s+/g, ' ')).join(',');
}

/** One header's value as a single string (repeats joined by `,`), or undefined when absent. */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(',');
}

export interface CanonicalRequestParts {
  request: SignableRequest;
  query: readonly QueryParameter[];
  signedHeaders: readonly string[];
  payloadHash: string;
  /** A query parameter left out of the canonical query (`X-Amz-Signature` of a presigned URL). */
  excludeParameter?: string;
}

export function canonicalRequest({ request, query, signedHeaders, payloadHash, excludeParameter }: CanonicalRequestParts): string {
  const headerLines = signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`).join('');
  return [
    request.method.toUpperCase(),
    canonicalUri(request.rawPath),
    canonicalQuery(query, excludeParameter),
    headerLines,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}
