import type { Request, Response } from 'express';
import { S3Error } from '../../lib/s3/s3-error';
import type { PlaneStreamOptions } from '../plane-stream';
import { planeBucketListing } from './s3-plane-request';
import { xmlDocument } from './s3-xml';

/** Query parameters ListMultipartUploads takes here (`delimiter` is not offered). */
const LIST_UPLOADS_PARAMETERS = new Set(['uploads', 'prefix', 'key-marker', 'upload-id-marker', 'max-uploads', 'encoding-type']);

interface PlaneUpload {
  key: string;
  upload_id: string;
  initiated: string;
}

interface PlaneUploadPage {
  uploads: PlaneUpload[];
  is_truncated: boolean;
  next_key_marker: string | null;
  next_upload_id_marker: string | null;
}

/** True for a request ListMultipartUploads serves: `GET /<bucket>?uploads` with its own parameters. */
export function isListMultipartUploads(method: string, parameters: readonly string[]): boolean {
  return method === 'GET' && parameters.includes('uploads') && parameters.every((name) => LIST_UPLOADS_PARAMETERS.has(name));
}

function queryValue(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

function maxUploadsOf(req: Request): number {
  const text = queryValue(req, 'max-uploads');
  if (text === undefined) return 1000;
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 1000) {
    throw new S3Error('InvalidArgument', 'max-uploads must be an integer between 1 and 1000');
  }
  return Number(text);
}

/** `encoding-type=url` asks for keys (and prefixes, markers) URL-encoded, as the `aws` CLI does. */
function encoderOf(req: Request): (text: string) => string {
  const encoding = queryValue(req, 'encoding-type');
  if (encoding === undefined) return (text) => text;
  if (encoding !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request');
  return (text) => encodeURIComponent(text).replace(/%2F/g, '/');
}

/**
 * ListMultipartUploads (`prefix`, `key-marker`, `upload-id-marker`, `max-uploads` 1..1000,
 * `encoding-type=url`): the bucket's open uploads from the data plane, by key and then
 * initiation. An `upload-id-marker` without a `key-marker` is ignored, as S3 ignores it.
 */
export async function listMultipartUploads(options: PlaneStreamOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const prefix = queryValue(req, 'prefix') ?? '';
  const keyMarker = queryValue(req, 'key-marker') ?? '';
  const uploadIdMarker = keyMarker === '' ? '' : (queryValue(req, 'upload-id-marker') ?? '');
  const maxUploads = maxUploadsOf(req);
  const encode = encoderOf(req);
  const query = new URLSearchParams({ prefix, max_uploads: String(maxUploads) });
  if (keyMarker !== '') query.set('key_marker', keyMarker);
  if (uploadIdMarker !== '') query.set('upload_id_marker', uploadIdMarker);
  const page = await planeBucketListing<PlaneUploadPage>(options, res, bucket, `uploads&${query}`);
  if (!page) return;
  const last = page.uploads[page.uploads.length - 1];
  res.status(200).type('application/xml');
  res.send(
    xmlDocument('ListMultipartUploadsResult', {
      Bucket: bucket,
      KeyMarker: encode(keyMarker),
      UploadIdMarker: uploadIdMarker,
      NextKeyMarker: encode(page.next_key_marker ?? last?.key ?? ''),
      NextUploadIdMarker: page.next_upload_id_marker ?? last?.upload_id ?? '',
      ...(queryValue(req, 'encoding-type') !== undefined ? { EncodingType: 'url' } : {}),
      MaxUploads: maxUploads,
      IsTruncated: page.is_truncated,
      Upload: page.uploads.map((upload) => ({
        Key: encode(upload.key),
        UploadId: upload.upload_id,
        StorageClass: 'STANDARD',
        Initiated: upload.initiated,
      })),
      Prefix: encode(prefix),
    }),
  );
}
