import type { IncomingHttpHeaders } from 'node:http';

/** S3's user-defined metadata: `x-amz-meta-<name>` headers, kept with the object and answered on GET and HEAD. */
export const USER_METADATA_PREFIX = 'x-amz-meta-';

/** The governance fields' own metadata names (`x-amz-meta-eosc-jurisdiction`...): governance, never user metadata. */
const GOVERNANCE_PREFIX = `${USER_METADATA_PREFIX}eosc-`;

/** S3's limit: the UTF-8 bytes of every name (without the prefix) and value together. */
export const MAX_USER_METADATA_BYTES = 2048;

/** An HTTP token (RFC 9110), as header names are. */
const NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** Visible ASCII, spaces and tabs: what survives in a header value and in S3's signatures. */
const VALUE = /^[\t\x20-\x7e]*$/;

export type UserMetadata = Record<string, string>;

export class UserMetadataError extends Error {
  constructor(
    message: string,
    readonly header: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/**
 * The user metadata of a write: every `x-amz-meta-*` header except the governance names
 * (`x-amz-meta-eosc-*`), name without the prefix, value trimmed. Throws UserMetadataError for a
 * value S3 clients could not have sent or more than 2 KiB in all. Empty when there is none.
 */
export function userMetadataOf(headers: IncomingHttpHeaders): UserMetadata {
  const out: UserMetadata = {};
  let bytes = 0;
  for (const [header, raw] of Object.entries(headers)) {
    if (!header.startsWith(USER_METADATA_PREFIX) || header.startsWith(GOVERNANCE_PREFIX) || raw === undefined) continue;
    const name = header.slice(USER_METADATA_PREFIX.length);
    const value = (Array.isArray(raw) ? raw.join(',') : raw).trim();
    if (!NAME.test(name)) throw new UserMetadataError(`${header} is not a valid metadata name`, header);
    if (!VALUE.test(value)) throw new UserMetadataError(`${header} must be visible ASCII (encode other text, as S3 clients do)`, header);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (bytes > MAX_USER_METADATA_BYTES) {
      throw new UserMetadataError(`user metadata is limited to ${MAX_USER_METADATA_BYTES} bytes of names and values`, header, true);
    }
    out[name] = value;
  }
  return out;
}

/** Stored form: JSON with the names in order, or null when there is none. */
export function storedUserMetadata(metadata: UserMetadata): string | null {
  const names = Object.keys(metadata).sort();
  // Written by hand: an object would list integer-like names ("1") first, whatever the order given.
  return names.length === 0 ? null : `{${names.map((name) => `${JSON.stringify(name)}:${JSON.stringify(metadata[name])}`).join(',')}}`;
}

/** The stored user metadata as `x-amz-meta-*` headers; a stored text that is not such an object gives none. */
export function userMetadataHeaders(stored: string | null): Array<[string, string]> {
  if (!stored) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return [];
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return [];
  return Object.entries(parsed as Record<string, unknown>)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && NAME.test(entry[0]) && VALUE.test(entry[1]))
    .map(([name, value]) => [`${USER_METADATA_PREFIX}${name}`, value]);
}
