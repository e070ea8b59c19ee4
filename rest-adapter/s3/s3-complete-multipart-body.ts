import type { Readable } from 'node:stream';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from '../../lib/s3/s3-error';
import { malformedXml, readXmlDocument } from './s3-xml';

/** 10,000 parts of about 150 bytes each, with room for checksums S3 clients add per part. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** One part as the client lists it on completion: its number and the ETag UploadPart returned. */
export interface ListedPart {
  partNumber: number;
  /** The ETag without quotes. */
  etag: string;
}

const parser = new XMLParser({ processEntities: false, parseTagValue: false, ignoreAttributes: true, isArray: (name) => name === 'Part' });

const malformed = malformedXml;

/**
 * The part list of a CompleteMultipartUpload body (`<CompleteMultipartUpload><Part>
 * <PartNumber>1</PartNumber><ETag>"..."</ETag></Part>...`), in the order given. Entities are
 * not expanded (a DOCTYPE is refused); an ETag's quotes, plain or as a reference (`&quot;`, or
 * `&#34;` as Go's encoder writes them, `&#x22;`), are dropped.
 * Per-part checksums (`ChecksumCRC32`, ...) are ignored.
 */
/** A double quote, as itself or as an XML character or entity reference. */
const QUOTE = /"|&quot;|&#0*34;|&#x0*22;/gi;

export async function readCompletionParts(body: Readable): Promise<ListedPart[]> {
  const text = (await readXmlDocument(body, MAX_BODY_BYTES)).toString('utf8');
  if (/<!DOCTYPE/i.test(text) || XMLValidator.validate(text) !== true) throw malformed();
  const document = parser.parse(text) as { CompleteMultipartUpload?: { Part?: unknown[] } | string };
  const root = document.CompleteMultipartUpload;
  const parts = typeof root === 'object' && root !== null ? root.Part : undefined;
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS) throw malformed();
  return parts.map((part) => {
    const { PartNumber, ETag } = (part ?? {}) as { PartNumber?: unknown; ETag?: unknown };
    if (typeof PartNumber !== 'string' || !/^\d{1,5}$/.test(PartNumber.trim()) || typeof ETag !== 'string') throw malformed();
    const partNumber = Number(PartNumber.trim());
    if (partNumber < 1 || partNumber > MAX_PARTS)
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    return { partNumber, etag: ETag.replace(QUOTE, '').trim() };
  });
}
