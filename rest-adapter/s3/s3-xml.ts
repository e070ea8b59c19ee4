import { XMLBuilder } from 'fast-xml-parser';

const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false, processEntities: true });

/** The namespace S3 puts on its result documents. */
export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An XML document with its declaration; `root` is the single top-level element. */
export function xmlDocument(root: string, content: Record<string, unknown>, namespaced = true): string {
  const element = namespaced ? { '@_xmlns': S3_NAMESPACE, ...content } : content;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: element })}`;
}
