import type { QueryParameter } from './sigv4-encoding';
import { SIGV4_ALGORITHM } from './sigv4-crypto';
import { parseCredential, parseSignedHeaders, type SignatureCredential } from './sigv4-credential';
import { S3Error } from './s3-error';

/** The longest validity SigV4 allows a presigned URL: 7 days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

/** The `X-Amz-*` parameters of a presigned URL. */
export interface PresignedParts extends SignatureCredential {
  amzDate: string;
  expiresSeconds: number;
  signedHeaders: string[];
  signature: string;
  /** `X-Amz-Content-Sha256` when the URL carries one; otherwise the payload is unsigned. */
  payloadHash: string | undefined;
}

export function isPresigned(query: readonly QueryParameter[]): boolean {
  return query.some((parameter) => parameter.name === 'X-Amz-Algorithm' || parameter.name === 'X-Amz-Signature');
}

export function parsePresigned(query: readonly QueryParameter[]): PresignedParts {
  const value = (name: string): string => {
    const found = query.filter((parameter) => parameter.name === name);
    if (found.length !== 1) throw queryError(`Query-string authentication requires exactly one ${name} parameter.`);
    return found[0]!.value;
  };
  const optional = (name: string): string | undefined => (query.some((parameter) => parameter.name === name) ? value(name) : undefined);
  if (value('X-Amz-Algorithm') !== SIGV4_ALGORITHM) throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".');
  if (optional('X-Amz-Security-Token') !== undefined) throw new S3Error('InvalidRequest', 'Temporary session tokens are not supported.');
  const expires = value('X-Amz-Expires');
  const expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN;
  if (!(expiresSeconds >= 1)) throw queryError('X-Amz-Expires must be a whole number of seconds.');
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS)
    throw queryError(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds.',
    );
  return {
    ...parseCredential(value('X-Amz-Credential'), 'AuthorizationQueryParametersError'),
    amzDate: value('X-Amz-Date'),
    expiresSeconds,
    signedHeaders: parseSignedHeaders(value('X-Amz-SignedHeaders'), 'AuthorizationQueryParametersError'),
    signature: value('X-Amz-Signature'),
    payloadHash: optional('X-Amz-Content-Sha256'),
  };
}

function queryError(message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message);
}
