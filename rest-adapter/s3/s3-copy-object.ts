import type { Request, Response } from 'express';
import { objectKeyProblem } from '../../lib/domain/object-key';
import { GOVERNANCE_HEADERS } from '../../lib/domain/governance-headers';
import { S3Error } from '../../lib/s3/s3-error';
import type { PlaneStreamOptions } from '../plane-stream';
import { assertCopySourceConditions, hasCopySourceConditions } from './copy-source-conditions';
import { EVIDENCE_POINTER_HEADER } from './s3-error-document';
import { governanceHeadersOf, userMetadataRequestHeaders } from './s3-governance-headers';
import { type S3ObjectTarget, planePath, refuseFromPlane } from './s3-object-operations';
import { type PlaneAnswer, dataPlaneRequest } from './s3-plane-request';
import { s3EtagOf } from './s3-upload-body';
import { xmlDocument } from './s3-xml';

const PLANE_COPY_SOURCE = 'x-eosc-copy-source';
const PLANE_COPY_SOURCE_VERSION = 'x-eosc-copy-source-version-id';

/** The object `x-amz-copy-source` names: `[/]bucket/key[?versionId=...]`, URL-encoded. */
export function parseCopySource(value: string): S3ObjectTarget {
  const question = value.indexOf('?');
  const path = (question === -1 ? value : value.slice(0, question)).replace(/^\//, '');
  const query = new URLSearchParams(question === -1 ? '' : value.slice(question + 1));
  const slash = path.indexOf('/');
  let bucket = '';
  let key = '';
  try {
    bucket = decodeURIComponent(path.slice(0, slash));
    key = decodeURIComponent(path.slice(slash + 1));
  } catch {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  }
  if (slash <= 0 || bucket === '' || objectKeyProblem(key))
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  const versionId = query.get('versionId');
  return { bucket, key, resource: `/${bucket}/${key}`, ...(versionId ? { versionId } : {}) };
}

function metadataDirective(req: Request): 'COPY' | 'REPLACE' {
  const value = req.headers['x-amz-metadata-directive'];
  if (value === undefined || value === 'COPY') return 'COPY';
  if (value === 'REPLACE') return 'REPLACE';
  throw new S3Error('InvalidArgument', 'Unknown metadata directive.');
}

function planeObjectName(source: S3ObjectTarget): string {
  return `${encodeURIComponent(source.bucket)}/${source.key.split('/').map(encodeURIComponent).join('/')}`;
}

async function writtenEvidencePointer(answer: PlaneAnswer): Promise<string | undefined> {
  const header = answer.headers[EVIDENCE_POINTER_HEADER];
  const text = await answer.body.text().catch(() => '');
  if (typeof header === 'string') return header;
  try {
    const body = JSON.parse(text) as { evidence_pointer?: unknown };
    return typeof body.evidence_pointer === 'string' ? body.evidence_pointer : undefined;
  } catch {
    return undefined;
  }
}

function sendCopyResult(res: Response, answer: PlaneAnswer, pointer: string | undefined): void {
  const etag = s3EtagOf(answer.headers);
  const versionId = answer.headers['x-eosc-version-id'];
  if (typeof versionId === 'string') res.setHeader('x-amz-version-id', versionId);
  if (typeof pointer === 'string') res.setHeader(EVIDENCE_POINTER_HEADER, pointer);
  res.status(200).setHeader('content-type', 'application/xml');
  res.end(xmlDocument('CopyObjectResult', { LastModified: new Date().toISOString(), ETag: etag ?? '' }));
}

/** COPY: the data plane's own copy, which keeps every governance value and refers to the same blob. */
async function copyKeepingMetadata(options: PlaneStreamOptions, res: Response, source: S3ObjectTarget, target: S3ObjectTarget) {
  const headers: Record<string, string> = { [PLANE_COPY_SOURCE]: planeObjectName(source) };
  if (source.versionId !== undefined) headers[PLANE_COPY_SOURCE_VERSION] = source.versionId;
  return dataPlaneRequest(options, res, { path: planePath({ ...target, versionId: undefined }), method: 'PUT', headers });
}

/**
 * REPLACE: the source streamed from the data plane into a governed PUT of the target with the
 * request's governance headers; the integrity is the source's SHA-256 unless one is declared.
 */
async function copyReplacingMetadata(
  options: PlaneStreamOptions,
  req: Request,
  res: Response,
  source: S3ObjectTarget,
  target: S3ObjectTarget,
): Promise<PlaneAnswer | undefined> {
  const read = await dataPlaneRequest(options, res, { path: planePath(source), method: 'GET', headers: {} });
  if (read.statusCode >= 300) {
    await refuseFromPlane(res, read, source);
    return undefined;
  }
  const sourceSha256 = String(read.headers.etag ?? '').replace(/"/g, '');
  const headers = { ...governanceHeadersOf(req.headers, { kind: 'unsigned' }), ...userMetadataRequestHeaders(req.headers) };
  if (headers[GOVERNANCE_HEADERS.integrity] === undefined && /^[0-9a-f]{64}$/.test(sourceSha256))
    headers[GOVERNANCE_HEADERS.integrity] = `sha256:${sourceSha256}`;
  const contentType = req.headers['content-type'] ?? read.headers['content-type'];
  headers['content-type'] = typeof contentType === 'string' ? contentType : 'application/octet-stream';
  const length = read.headers['content-length'];
  if (typeof length === 'string') headers['content-length'] = length;
  try {
    return await dataPlaneRequest(options, res, {
      path: planePath({ ...target, versionId: undefined }),
      method: 'PUT',
      headers,
      body: read.body,
    });
  } finally {
    read.body.resume();
  }
}

/**
 * The `x-amz-copy-source-if-*` conditions checked against the source's metadata (a HEAD on the
 * data plane); false when the source could not be read (the refusal is sent).
 */
async function sourceMeetsConditions(options: PlaneStreamOptions, req: Request, res: Response, source: S3ObjectTarget): Promise<boolean> {
  const probe = await dataPlaneRequest(options, res, { path: planePath(source), method: 'HEAD', headers: {} });
  await probe.body.dump();
  if (probe.statusCode >= 300) {
    await refuseFromPlane(res, probe, source);
    return false;
  }
  const etag = s3EtagOf(probe.headers);
  const lastModified = probe.headers['last-modified'];
  if (etag !== undefined && typeof lastModified === 'string') assertCopySourceConditions(req.headers, etag, new Date(lastModified));
  return true;
}

/**
 * CopyObject (`PUT` with `x-amz-copy-source`): a governed write of the target with its evidence.
 * The source must lie in the credential's tenant; the data plane refuses any other.
 */
export async function copyObject(options: PlaneStreamOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const source = parseCopySource(String(req.headers['x-amz-copy-source']));
  const directive = metadataDirective(req);
  if (hasCopySourceConditions(req.headers) && !(await sourceMeetsConditions(options, req, res, source))) return;
  const answer =
    directive === 'COPY'
      ? await copyKeepingMetadata(options, res, source, target)
      : await copyReplacingMetadata(options, req, res, source, target);
  if (!answer) return;
  if (answer.statusCode >= 300) return refuseFromPlane(res, answer, { ...target, versionId: undefined });
  sendCopyResult(res, answer, await writtenEvidencePointer(answer));
}
