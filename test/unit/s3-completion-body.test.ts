import { Readable } from 'node:stream';
import { readCompletionParts } from '../../rest-adapter/s3/s3-complete-multipart-body';
import { S3Error } from '../../lib/s3/s3-error';

const body = (parts: string) => Readable.from([Buffer.from(`<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`)]);
const part = (n: number, etag: string) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`;

describe('CompleteMultipartUpload body', () => {
  it("drops an ETag's quotes however the client wrote them (Go's encoder writes &#34;)", async () => {
    const etag = '0123456789abcdef0123456789abcdef';
    const parts = await readCompletionParts(
      body([`"${etag}"`, `&quot;${etag}&quot;`, `&#34;${etag}&#34;`, `&#x22;${etag}&#x0022;`, etag].map((e, i) => part(i + 1, e)).join('')),
    );
    expect(parts).toEqual([1, 2, 3, 4, 5].map((partNumber) => ({ partNumber, etag })));
  });

  it('refuses a DOCTYPE, no parts and a part number out of range', async () => {
    for (const text of [`<!DOCTYPE x [<!ENTITY a "b">]>${part(1, 'x')}`, '', part(0, 'x'), part(10_001, 'x')]) {
      await expect(readCompletionParts(body(text))).rejects.toBeInstanceOf(S3Error);
    }
  });
});
