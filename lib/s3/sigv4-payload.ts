import { S3Error } from './s3-error';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/** How the body of a verified request is vouched for. */
export type PayloadMode =
  /** The signature covers this SHA-256 of the body; the body must be checked against it while streaming. */
  | { kind: 'signed'; sha256: string }
  /** The body is not covered by the signature. */
  | { kind: 'unsigned' }
  /** `aws-chunked` body, each chunk signed in a chain starting from the request's signature. */
  | { kind: 'streaming-signed'; decodedLength: number }
  /** `aws-chunked` body without chunk signatures, possibly ending in checksum trailers. */
  | { kind: 'streaming-unsigned'; decodedLength: number };

/** Reads `x-amz-content-sha256` (and `x-amz-decoded-content-length` for `aws-chunked` bodies). */
export function payloadMode(contentSha256: string, decodedLength: string | undefined): PayloadMode {
  if (/^[0-9a-f]{64}$/.test(contentSha256)) return { kind: 'signed', sha256: contentSha256 };
  if (contentSha256 === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (contentSha256 === STREAMING_SIGNED_PAYLOAD || contentSha256 === STREAMING_UNSIGNED_TRAILER) {
    if (decodedLength === undefined || !/^\d{1,15}$/.test(decodedLength)) {
      throw new S3Error('InvalidArgument', 'An aws-chunked upload needs x-amz-decoded-content-length.');
    }
    const kind = contentSha256 === STREAMING_SIGNED_PAYLOAD ? 'streaming-signed' : 'streaming-unsigned';
    return { kind, decodedLength: Number(decodedLength) };
  }
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD or a SHA-256 in hex.',
  );
}
