import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SignableRequest } from '../../lib/s3/sigv4-canonical-request';

/** The SHA-256 the smithy signer expects: a class, keyed for HMAC. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {}
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export const TEST_REGION = 'us-east-1';

export function smithySigner(accessKeyId: string, secretAccessKey: string, region = TEST_REGION): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
  });
}

/** A request as the SDK builds it: each path segment encoded like the S3 client does. */
export interface SdkRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export function s3Path(bucket: string, key?: string): string {
  const encode = (segment: string) =>
    encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return key === undefined ? `/${encode(bucket)}` : `/${encode(bucket)}/${key.split('/').map(encode).join('/')}`;
}

export function sdkRequest(request: SdkRequest): SdkRequest & { protocol: string; hostname: string } {
  return { protocol: 'http:', hostname: 'storage.test', ...request, headers: { host: 'storage.test', ...request.headers } };
}

/** The signed request as the server receives it: query on the wire, header names lower-cased. */
export function received(signed: {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  headers: Record<string, string>;
}): SignableRequest {
  const query = Object.entries(signed.query ?? {})
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
    .join('&');
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: signed.method, rawPath: signed.path, rawQuery: query, headers };
}
