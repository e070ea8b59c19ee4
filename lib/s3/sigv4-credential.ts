import type { CredentialScope } from './sigv4-crypto';
import { S3Error, type S3ErrorCode } from './s3-error';

/** The parsed `Credential` of a signature: `<access key id>/<yyyymmdd>/<region>/<service>/aws4_request`. */
export interface SignatureCredential {
  accessKeyId: string;
  scope: CredentialScope;
}

export function parseCredential(text: string, errorCode: S3ErrorCode): SignatureCredential {
  const parts = text.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || !accessKeyId || !date || !region || !service) {
    throw new S3Error(errorCode, 'The credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  if (!/^\d{8}$/.test(date)) throw new S3Error(errorCode, `Invalid credential date "${date}".`);
  if (service !== 's3') throw new S3Error(errorCode, `The service "${service}" is incorrect; expecting "s3".`);
  if (terminator !== 'aws4_request') throw new S3Error(errorCode, 'The credential must end with "aws4_request".');
  return { accessKeyId, scope: { date, region, service } };
}

/** The signed header list: lower-case names, `;`-separated, sorted, no repeats, `host` among them. */
export function parseSignedHeaders(text: string, errorCode: S3ErrorCode): string[] {
  const names = text.split(';');
  const wellFormed = names.every((name, index) => /^[a-z0-9!#$%&'*+\-.^_`|~]+$/.test(name) && (index === 0 || names[index - 1]! < name));
  if (!wellFormed) throw new S3Error(errorCode, 'The signed headers must be lower-case, sorted and separated by ";".');
  if (!names.includes('host')) throw new S3Error(errorCode, 'The host header must be signed.');
  return names;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The instant of an `x-amz-date` (`yyyyMMddTHHmmssZ`), or undefined when malformed or not a real time. */
export function parseAmzDate(text: string): Date | undefined {
  const match = AMZ_DATE.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const instant = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    instant.getUTCFullYear() === year &&
    instant.getUTCMonth() === month - 1 &&
    instant.getUTCDate() === day &&
    instant.getUTCHours() === hour &&
    instant.getUTCMinutes() === minute;
  return real && second < 60 ? instant : undefined;
}
