import { createHash } from 'node:crypto';
import { S3Error } from './s3-error';

function crcTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32 = crcTable(0xedb88320);
const CRC32C = crcTable(0x82f63b78);

function crc(table: Uint32Array, bytes: Buffer): string {
  let c = 0xffffffff;
  for (const byte of bytes) c = table[(c ^ byte) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

const DIGESTS: Record<string, (bytes: Buffer) => string> = {
  'content-md5': (bytes) => createHash('md5').update(bytes).digest('base64'),
  'x-amz-checksum-sha256': (bytes) => createHash('sha256').update(bytes).digest('base64'),
  'x-amz-checksum-sha1': (bytes) => createHash('sha1').update(bytes).digest('base64'),
  'x-amz-checksum-crc32': (bytes) => crc(CRC32, bytes),
  'x-amz-checksum-crc32c': (bytes) => crc(CRC32C, bytes),
};

/**
 * Checks the integrity header S3 requires on some bodies (DeleteObjects): `Content-MD5`, or an
 * `x-amz-checksum-*` (CRC32, CRC32C, SHA-1, SHA-256). Every one sent must match; at least one is needed.
 */
export function checkBodyChecksum(headers: Record<string, string | string[] | undefined>, body: Buffer): void {
  let checked = 0;
  for (const [name, digest] of Object.entries(DIGESTS)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value) || digest(body) !== value.trim()) {
      throw new S3Error('BadDigest', `The ${name} you specified did not match what we received.`);
    }
    checked++;
  }
  if (checked === 0) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
}
