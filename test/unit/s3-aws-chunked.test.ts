import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { AwsChunkedDecoder } from '../../lib/s3/aws-chunked-decoder';
import { PayloadSha256Check } from '../../lib/s3/payload-sha256-check';
import { type CredentialScope, signingKey } from '../../lib/s3/sigv4-crypto';
import { verifyS3Request } from '../../lib/s3/sigv4-verify';
import { S3Error } from '../../lib/s3/s3-error';
import { received, sdkRequest, smithySigner } from '../support/smithy-signer';

const ACCESS_KEY = 'ECSTESTACCESSKEY0002';
const SECRET = 'chunked/secret/example';
const NOW = new Date('2026-12-06T12:00:00Z');
const findCredential = async (_: string, scope: CredentialScope) => ({ signingKey: signingKey(SECRET, scope), expiresAt: null });

/** A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload: the request signed by the SDK signer, each chunk signed by it too. */
async function signedChunkedUpload(data: Buffer, chunkSize: number) {
  const signer = smithySigner(ACCESS_KEY, SECRET);
  const headers = {
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'x-amz-decoded-content-length': String(data.length),
    'content-encoding': 'aws-chunked',
  };
  const request = received(
    await signer.sign(sdkRequest({ method: 'PUT', path: '/bucket-1/chunked.bin', query: {}, headers }), { signingDate: NOW }),
  );
  let prior = /Signature=([0-9a-f]{64})/.exec(String(request.headers.authorization))![1]!;
  const pieces: Buffer[] = [];
  for (let offset = 0; ; offset += chunkSize) {
    const chunk = data.subarray(offset, offset + chunkSize);
    const signature = await signer.sign({ headers: new Uint8Array(0), payload: chunk }, { signingDate: NOW, priorSignature: prior });
    pieces.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${signature}\r\n`), chunk, Buffer.from('\r\n'));
    prior = signature;
    if (chunk.length === 0) break;
  }
  return { request, body: Buffer.concat(pieces) };
}

async function decode(body: Buffer, decoder: AwsChunkedDecoder, pieceSizes: readonly number[] = [body.length]): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (const size of pieceSizes) {
    pieces.push(body.subarray(offset, offset + size));
    offset += size;
  }
  if (offset < body.length) pieces.push(body.subarray(offset));
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), decoder, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return Buffer.concat(out);
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return error instanceof S3Error ? error.code : `not an S3Error: ${String(error)}`;
}

describe('aws-chunked bodies', () => {
  it('decodes a signed chunked body however the network splits it, checking every chunk signature', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 1, max: 1024 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 20 }),
        async (bytes, chunkSize, splits) => {
          const data = Buffer.from(bytes);
          const { request, body } = await signedChunkedUpload(data, chunkSize);
          const verified = await verifyS3Request(request, { findCredential, now: () => NOW });
          expect(verified.payload).toEqual({ kind: 'streaming-signed', decodedLength: data.length });
          const decoded = await decode(body, new AwsChunkedDecoder({ seed: verified.seed, decodedLength: data.length }), splits);
          expect(decoded.equals(data)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a changed byte, a reordered or dropped chunk, a wrong length and bytes after the end', async () => {
    const data = Buffer.from('0123456789'.repeat(100));
    const { request, body } = await signedChunkedUpload(data, 300);
    const { seed } = await verifyS3Request(request, { findCredential, now: () => NOW });
    const decoder = (decodedLength = data.length) => new AwsChunkedDecoder({ seed, decodedLength });
    const flipped = Buffer.from(body);
    const flippedAt = body.indexOf('\r\n') + 10;
    flipped.writeUInt8(flipped.readUInt8(flippedAt) ^ 1, flippedAt);
    expect(await failure(decode(flipped, decoder()))).toBe('SignatureDoesNotMatch');
    const firstChunkEnd = body.indexOf('\r\n', body.indexOf('\r\n') + 2) + 2;
    const withoutFirst = body.subarray(firstChunkEnd);
    expect(await failure(decode(withoutFirst, decoder(data.length - 300)))).toBe('SignatureDoesNotMatch');
    expect(await failure(decode(body, decoder(data.length + 1)))).toBe('IncompleteBody');
    expect(await failure(decode(body.subarray(0, body.length - 4), decoder()))).toBe('IncompleteBody');
    expect(await failure(decode(Buffer.concat([body, Buffer.from('x')]), decoder()))).toBe('IncompleteBody');
    const unsignedChunk = Buffer.from(`a\r\n0123456789\r\n0\r\n\r\n`);
    expect(await failure(decode(unsignedChunk, decoder(10)))).toBe('SignatureDoesNotMatch');
    const huge = new AwsChunkedDecoder({ seed, decodedLength: 10, maxChunkBytes: 4 });
    expect(await failure(decode(body, huge))).toBe('InvalidChunkSizeError');
  });

  it('decodes an unsigned chunked body with a checksum trailer, and refuses a wrong SHA-256 trailer', async () => {
    const data = Buffer.from('hello, chunked world');
    const sha256 = createHash('sha256').update(data).digest('base64');
    const body = (checksum: string) => Buffer.from(`14\r\n${data.toString()}\r\n0\r\nx-amz-checksum-sha256:${checksum}\r\n\r\n`);
    const decoder = new AwsChunkedDecoder({ decodedLength: data.length });
    expect((await decode(body(sha256), decoder, [3, 5, 7, 11])).equals(data)).toBe(true);
    expect(decoder.trailers.get('x-amz-checksum-sha256')).toBe(sha256);
    const wrong = createHash('sha256').update('other').digest('base64');
    expect(await failure(decode(body(wrong), new AwsChunkedDecoder({ decodedLength: data.length })))).toBe('BadDigest');
  });

  it('refuses a body that ends without the trailer x-amz-trailer declared, before the stream ends', async () => {
    const data = Buffer.from('hello, chunked world');
    const withoutTrailer = Buffer.from(`14\r\n${data.toString()}\r\n0\r\n\r\n`);
    const declared = new AwsChunkedDecoder({ decodedLength: data.length, declaredTrailers: ['x-amz-checksum-sha256'] });
    expect(await failure(decode(withoutTrailer, declared))).toBe('IncompleteBody');
    const undeclared = new AwsChunkedDecoder({ decodedLength: data.length });
    expect((await decode(withoutTrailer, undeclared)).equals(data)).toBe(true);
  });
});

describe('signed payload', () => {
  it('passes a body that hashes to the signed SHA-256 and fails one that does not', async () => {
    const data = Buffer.from('signed body');
    const hex = createHash('sha256').update(data).digest('hex');
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([data.subarray(0, 4), data.subarray(4)]),
      new PayloadSha256Check(hex),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) out.push(chunk);
      },
    );
    expect(Buffer.concat(out).equals(data)).toBe(true);
    const tampered = pipeline(
      Readable.from([Buffer.from('signed bodz')]),
      new PayloadSha256Check(hex),
      async (source: AsyncIterable<Buffer>) => {
        for await (const _ of source);
      },
    );
    expect(await failure(tampered)).toBe('XAmzContentSHA256Mismatch');
  });
});
