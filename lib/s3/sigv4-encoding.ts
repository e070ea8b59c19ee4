import { S3Error } from './s3-error';

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** AWS's URI encoding: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX` with upper-case hex. */
export function uriEncode(text: string): string {
  let out = '';
  for (const char of text) {
    if (UNRESERVED.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  }
}

/**
 * The canonical URI of an S3 request: each segment of the path as received, decoded once and
 * encoded again, so clients that escape differently (`~`, `!`, upper or lower hex) sign alike.
 * S3 neither normalizes `.`/`..` segments nor double-encodes.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath
    .split('/')
    .map((segment) => uriEncode(decodeComponent(segment)))
    .join('/');
}

/** One `name=value` of a query string, decoded (`+` is a literal plus, as the signers send it). */
export interface QueryParameter {
  name: string;
  value: string;
}

/** The parameters of a raw query string (without `?`), in order, decoded. */
export function parseQuery(rawQuery: string): QueryParameter[] {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      const value = equals === -1 ? '' : pair.slice(equals + 1);
      return { name: decodeComponent(name), value: decodeComponent(value) };
    });
}

/** The canonical query string: encoded names and values sorted by name, then value. */
export function canonicalQuery(parameters: readonly QueryParameter[], exclude?: string): string {
  return parameters
    .filter((parameter) => parameter.name !== exclude)
    .map((parameter) => [uriEncode(parameter.name), uriEncode(parameter.value)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) => compare(nameA, nameB) || compare(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
