import type { Readable } from 'node:stream';
import { S3Error } from '../../lib/s3/s3-error';
import { XMLBuilder } from 'fast-xml-parser';

const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false, processEntities: true });

/** The namespace S3 puts on its result documents. */
export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An XML document with its declaration; `root` is the single top-level element. */
export function xmlDocument(root: string, content: Record<string, unknown>, namespaced = true): string {
  const element = namespaced ? { '@_xmlns': S3_NAMESPACE, ...content } : content;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: element })}`;
}

/** S3's answer to a request document it cannot read. */
export function malformedXml(): S3Error {
  return new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
}

/** A request document's bytes, at most `maxBytes` (beyond: MalformedXML, as S3 answers an oversized document). */
export async function readXmlDocument(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > maxBytes) throw malformedXml();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
