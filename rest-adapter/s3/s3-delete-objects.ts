import type { Request, Response } from 'express';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { S3Locals } from '../../gateway/s3-authenticate';
import { objectKeyProblem } from '../../lib/domain/object-key';
import { checkBodyChecksum } from '../../lib/s3/body-checksum';
import type { PlaneStreamOptions } from '../plane-stream';
import { type DeleteOutcome, deleteThroughPlane } from './s3-object-operations';
import { uploadBody } from './s3-upload-body';
import { malformedXml, readXmlDocument, xmlDocument } from './s3-xml';

const MAX_KEYS = 1000;
/** 1000 keys of up to 1024 bytes, their version ids and the markup around them. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Keys deleted at once against the data plane. */
const CONCURRENCY = 8;

interface DeleteEntry {
  key: string;
  versionId?: string;
}

const parser = new XMLParser({
  processEntities: true,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: false,
  ignoreAttributes: true,
  isArray: (name) => name === 'Object',
});

const malformed = malformedXml;

/** The `<Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>` list (no DOCTYPE, 1..1000 objects). */
export function parseDeleteList(text: string): { quiet: boolean; entries: DeleteEntry[] } {
  if (/<!DOCTYPE/i.test(text) || XMLValidator.validate(text) !== true) throw malformed();
  const root = (parser.parse(text) as { Delete?: unknown }).Delete;
  if (typeof root !== 'object' || root === null) throw malformed();
  const { Quiet, Object: objects } = root as { Quiet?: unknown; Object?: unknown };
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_KEYS) throw malformed();
  const entries = objects.map((entry): DeleteEntry => {
    const { Key, VersionId } = (entry ?? {}) as { Key?: unknown; VersionId?: unknown };
    if (typeof Key !== 'string' || (VersionId !== undefined && typeof VersionId !== 'string')) throw malformed();
    return VersionId ? { key: Key, versionId: VersionId.trim() } : { key: Key };
  });
  return { quiet: typeof Quiet === 'string' && Quiet.trim().toLowerCase() === 'true', entries };
}

async function deleteEach(options: PlaneStreamOptions, res: Response, bucket: string, entries: DeleteEntry[]): Promise<DeleteOutcome[]> {
  const outcomes: DeleteOutcome[] = new Array(entries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const index = next++;
      const { key, versionId } = entries[index]!;
      const problem = objectKeyProblem(key);
      outcomes[index] = problem
        ? { ok: false, error: { code: 'InvalidArgument', status: 400, message: problem } }
        : await deleteThroughPlane(options, res, { bucket, key, resource: `/${bucket}/${key}`, ...(versionId ? { versionId } : {}) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
  return outcomes;
}

function resultDocument(entries: DeleteEntry[], outcomes: DeleteOutcome[], quiet: boolean): string {
  const deleted: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  entries.forEach((entry, index) => {
    const outcome = outcomes[index]!;
    const version = entry.versionId ? { VersionId: entry.versionId } : {};
    if (outcome.ok) {
      if (!quiet) deleted.push({ Key: entry.key, ...version });
      return;
    }
    const { code, message, evidencePointer } = outcome.error;
    errors.push({
      Key: entry.key,
      ...version,
      Code: code,
      Message: message,
      ...(evidencePointer ? { EvidencePointer: evidencePointer } : {}),
    });
  });
  return xmlDocument('DeleteResult', { Deleted: deleted, Error: errors });
}

/**
 * DeleteObjects (`POST /bucket?delete`): each key deleted as DeleteObject deletes it, with its
 * own evidence; refusals (a lock: `EOSC_OBJECT_LOCKED`) come back per key as `<Error>`. The
 * list must carry `Content-MD5` or an `x-amz-checksum-*`, as S3 requires.
 */
export async function deleteObjects(options: PlaneStreamOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const { s3 } = res.locals as S3Locals;
  const upload = uploadBody(req, s3);
  const body = await readXmlDocument(upload.body, MAX_BODY_BYTES);
  const failure = upload.failure();
  if (failure) throw failure;
  checkBodyChecksum(req.headers, body);
  const { quiet, entries } = parseDeleteList(body.toString('utf8'));
  const outcomes = await deleteEach(options, res, bucket, entries);
  res.status(200).setHeader('content-type', 'application/xml');
  res.end(resultDocument(entries, outcomes, quiet));
}
