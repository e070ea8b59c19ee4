import type { IncomingHttpHeaders } from 'node:http';
import {
  GOVERNANCE_HEADER_NAMES,
  GOVERNANCE_HEADERS,
  INTEGRITY_FROM_CHUNK_SIGNATURES_HEADER,
  INTEGRITY_FROM_TRAILER_HEADER,
} from '../../lib/domain/governance-headers';
import { UserMetadataError, userMetadataOf } from '../../lib/domain/user-metadata';
import { S3Error } from '../../lib/s3/s3-error';
import type { PayloadMode } from '../../lib/s3/sigv4-payload';
import { declaredTrailers } from './s3-upload-body';

/** Governance headers beyond the required eight that a write may carry. */
const OPTIONAL_HEADERS = ['x-eosc-legal-hold'] as const;
const USER_METADATA = 'x-amz-meta-';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The `x-eosc-*` governance headers of an S3 write: each from its own header, or else from the
 * user metadata of the same name (`x-amz-meta-eosc-jurisdiction`), so tools that only set
 * metadata work. Integrity, when not declared, is the SHA-256 the request vouches for: the
 * signed `x-amz-content-sha256`, or `x-amz-checksum-sha256` as a header, or as the trailer of an
 * unsigned `aws-chunked` body (checked by the decoder before the body ends; the data plane is
 * told to record the SHA-256 it computes), or the chunk signatures of a signed `aws-chunked`
 * body (likewise); never MD5, SHA-1 or a CRC.
 */
export function governanceHeadersOf(headers: IncomingHttpHeaders, payload: PayloadMode): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...GOVERNANCE_HEADER_NAMES, ...OPTIONAL_HEADERS]) {
    const value = single(headers[name]) ?? single(headers[`${USER_METADATA}${name.slice(2)}`]);
    if (value !== undefined) out[name] = value;
  }
  return out[GOVERNANCE_HEADERS.integrity] === undefined ? { ...out, ...vouchedIntegrityHeaders(headers, payload) } : out;
}

/**
 * The data plane's headers for the SHA-256 a request body vouches for: `x-eosc-integrity` from
 * the signed `x-amz-content-sha256` or an `x-amz-checksum-sha256` header, or, for an unsigned
 * `aws-chunked` body with that trailer, the gateway-only INTEGRITY_FROM_TRAILER_HEADER (the
 * decoder checks the trailer before the body ends), for a chunk-signed one
 * INTEGRITY_FROM_CHUNK_SIGNATURES_HEADER (each chunk's signature is checked before the chunk
 * goes on). None when the body vouches for nothing.
 */
export function vouchedIntegrityHeaders(headers: IncomingHttpHeaders, payload: PayloadMode): Record<string, string> {
  const integrity = vouchedSha256(headers, payload);
  if (integrity) return { [GOVERNANCE_HEADERS.integrity]: `sha256:${integrity}` };
  if (payload.kind === 'streaming-unsigned' && declaredTrailers(headers).includes('x-amz-checksum-sha256')) {
    return { [INTEGRITY_FROM_TRAILER_HEADER]: 'sha256' };
  }
  if (payload.kind === 'streaming-signed') return { [INTEGRITY_FROM_CHUNK_SIGNATURES_HEADER]: 'sha256' };
  return {};
}

function vouchedSha256(headers: IncomingHttpHeaders, payload: PayloadMode): string | undefined {
  if (payload.kind === 'signed') return payload.sha256;
  const checksum = single(headers['x-amz-checksum-sha256']);
  if (checksum === undefined) return undefined;
  const bytes = Buffer.from(checksum, 'base64');
  return bytes.length === 32 && bytes.toString('base64') === checksum ? bytes.toString('hex') : undefined;
}

/**
 * A write's user-defined metadata (`x-amz-meta-*` other than the governance names), as the data
 * plane keeps it: `MetadataTooLarge` over 2 KiB, `InvalidArgument` for a value no S3 client sends.
 */
export function userMetadataRequestHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  try {
    return Object.fromEntries(Object.entries(userMetadataOf(headers)).map(([name, value]) => [`${USER_METADATA}${name}`, value]));
  } catch (error) {
    if (error instanceof UserMetadataError) throw new S3Error(error.tooLarge ? 'MetadataTooLarge' : 'InvalidArgument', error.message);
    throw error;
  }
}

/**
 * A stored object's metadata headers: the governance values as `x-eosc-*` and as S3 user
 * metadata too (`x-amz-meta-eosc-*`), so every S3 tool shows them, and the object's own user
 * metadata (`x-amz-meta-*`) as it was written.
 */
export function metadataHeadersOf(planeHeaders: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(planeHeaders)) {
    if (value === undefined) continue;
    if (name.startsWith(USER_METADATA) && !name.startsWith(`${USER_METADATA}eosc-`)) out[name] = single(value)!;
    if (!name.startsWith('x-eosc-')) continue;
    const text = single(value)!;
    out[name] = text;
    out[`${USER_METADATA}${name.slice(2)}`] = text;
  }
  return out;
}
