import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../lib/s3/s3-error';
import { evaluateConditions } from './conditional-request';

const COPY_SOURCE_CONDITIONS = {
  'x-amz-copy-source-if-match': 'if-match',
  'x-amz-copy-source-if-none-match': 'if-none-match',
  'x-amz-copy-source-if-modified-since': 'if-modified-since',
  'x-amz-copy-source-if-unmodified-since': 'if-unmodified-since',
} as const;

export function hasCopySourceConditions(headers: IncomingHttpHeaders): boolean {
  return Object.keys(COPY_SOURCE_CONDITIONS).some((name) => headers[name] !== undefined);
}

/**
 * CopyObject's and UploadPartCopy's `x-amz-copy-source-if-*` conditions against the source's
 * ETag and last modification: evaluated as a GET's conditions are, and any that does not hold
 * (including the ones a GET would answer 304 to) refuses the copy with 412 `PreconditionFailed`.
 */
export function assertCopySourceConditions(headers: IncomingHttpHeaders, etag: string, lastModified: Date): void {
  const asGet: IncomingHttpHeaders = {};
  for (const [copyName, getName] of Object.entries(COPY_SOURCE_CONDITIONS)) {
    const value = headers[copyName];
    if (typeof value === 'string') asGet[getName] = value;
  }
  if (evaluateConditions(asGet, etag, lastModified) !== 'proceed') {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  }
}
