import type { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import { GOVERNANCE_HEADERS } from '../../lib/domain/governance-headers';
import { S3Error } from '../../lib/s3/s3-error';
import type { PlaneStreamOptions } from '../plane-stream';
import { ByteRangeFilter } from './byte-range';
import type { ByteRangeBounds } from './byte-range';
import { assertCopySourceConditions } from './copy-source-conditions';
import { parseCopySource } from './s3-copy-object';
import { type PlanePart, partEtag, partNumberOf, refuseUploadFromPlane, uploadIdOf } from './s3-multipart-operations';
import { type S3ObjectTarget, planePath, refuseFromPlane } from './s3-object-operations';
import { type PlaneAnswer, dataPlaneRequest } from './s3-plane-request';
import { s3EtagOf } from './s3-upload-body';
import { xmlDocument } from './s3-xml';

/** `x-amz-copy-source-range: bytes=first-last` against the source's size; S3 takes no other form. */
export function copySourceRange(header: string | undefined, size: number): ByteRangeBounds | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(header.trim());
  if (!match) {
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
    );
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start || end >= size) throw new S3Error('InvalidRange', `Range specified is not valid for source object of size: ${size}`);
  return { start, end };
}

/** The source's bytes, or the range of them asked for; the source's connection is let go once the range is read. */
function partBody(source: PlaneAnswer, range: ByteRangeBounds | undefined): Readable {
  if (!range) return source.body;
  const filter = new ByteRangeFilter(range);
  filter.once('end', () => {
    source.body.unpipe(filter);
    source.body.destroy();
  });
  source.body.once('error', (error) => {
    if (!filter.readableEnded) filter.destroy(error);
  });
  return source.body.pipe(filter);
}

/**
 * UploadPartCopy (`PUT ?partNumber&uploadId` with `x-amz-copy-source`, optionally
 * `x-amz-copy-source-range` and the `x-amz-copy-source-if-*` conditions): the source (in the
 * credential's tenant; the data plane refuses any other) is read from the data plane and
 * streamed into the upload as that part, which the data plane stores and hashes as any part.
 */
export async function uploadPartCopy(options: PlaneStreamOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const partNumber = partNumberOf(req);
  const uploadId = uploadIdOf(req);
  const source = parseCopySource(String(req.headers['x-amz-copy-source']));
  const read = await dataPlaneRequest(options, res, { path: planePath(source), method: 'GET', headers: {} });
  if (read.statusCode >= 300) return refuseFromPlane(res, read, source);
  let body: Readable;
  let length: number;
  let vouched: Record<string, string> = {};
  try {
    const etag = s3EtagOf(read.headers);
    const lastModified = read.headers['last-modified'];
    if (etag !== undefined && typeof lastModified === 'string') assertCopySourceConditions(req.headers, etag, new Date(lastModified));
    const size = Number(read.headers['content-length']);
    const range = copySourceRange(headerText(req, 'x-amz-copy-source-range'), size);
    body = partBody(read, range);
    length = range ? range.end - range.start + 1 : size;
    // A whole source's recorded integrity is the part's; a range has none (an upload started
    // without the object's integrity refuses such a part).
    const integrity = read.headers[GOVERNANCE_HEADERS.integrity];
    if (!range && typeof integrity === 'string') vouched = { [GOVERNANCE_HEADERS.integrity]: integrity };
  } catch (error) {
    read.body.on('error', () => undefined).destroy();
    throw error;
  }
  const query = new URLSearchParams({ upload_id: uploadId, part_number: String(partNumber) });
  let answer: PlaneAnswer;
  try {
    answer = await dataPlaneRequest(options, res, {
      path: `${planePath({ ...target, versionId: undefined })}?${query}`,
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(length), ...vouched },
      body,
    });
  } finally {
    read.body.resume();
  }
  if (answer.statusCode >= 300) return refuseUploadFromPlane(res, answer, { ...target, versionId: undefined });
  const stored = (await answer.body.json()) as PlanePart;
  res.status(200).setHeader('content-type', 'application/xml');
  res.end(xmlDocument('CopyPartResult', { LastModified: new Date().toISOString(), ETag: `"${partEtag(stored)}"` }));
}

function headerText(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}
