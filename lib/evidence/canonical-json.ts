import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** RFC 8785 (JCS) canonical JSON text of a value: the input of every hash (`ecs-hash-v1`). */
export function canonicalJson(value: JsonValue): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

/** `sha256:` + lowercase hex SHA-256 of a UTF-8 string or bytes. */
export function sha256Digest(input: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(input).digest('hex')}`;
}

/** The `ecs-hash-v1` digest of a JSON value: SHA-256 of its canonical JSON. */
export function contentDigest(value: JsonValue): string {
  return sha256Digest(canonicalJson(value));
}
