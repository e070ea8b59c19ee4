/**
 * The JSON documents of a bundle (manifest, chain segment, verifier inputs, profile claim,
 * JWKS), parsed as strict UTF-8 JSON objects, with small typed accessors for the checks.
 * The chain segment is the exception to "parsed whole": its entries are spooled as it is
 * read (segment-reader.ts).
 */
import type { JsonObject, JsonValue } from '../evidence/canonical-json';
import { BUNDLE_FILES } from './bundle';
import type { Findings, OrderKey } from './findings';
import type { SegmentEntries } from './segment-reader';

export interface BundleDocuments {
  manifest?: JsonObject;
  /** The exact bytes of manifest.json (what a signature covers). */
  manifestBytes?: Buffer;
  /** chain-segment.json without its entries (an empty `events` list stands for them). */
  segment?: JsonObject;
  /** The entries of the segment's `events` list, when it is a list. */
  segmentEntries?: SegmentEntries;
  /** `sha256:<hex>` of the exact bytes of chain-segment.json, when the file is there. */
  segmentDigest?: string;
  verifierInputs?: JsonObject;
  profileClaim?: JsonObject;
  jwks?: JsonObject;
  /** The signature files present (manifest.sig, signature.jws), with their bytes. */
  signatures: Map<string, Buffer>;
}

/** Documents in the order their `files` findings are listed. */
export const DOCUMENT_FILES = [
  BUNDLE_FILES.manifest,
  BUNDLE_FILES.segment,
  BUNDLE_FILES.verifierInputs,
  BUNDLE_FILES.profileClaim,
  BUNDLE_FILES.jwks,
] as const;

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses strict UTF-8 JSON that must be an object; `undefined` (and a finding) otherwise. */
export function parseObject(bytes: Buffer, file: string, findings: Findings, check = 'files', key?: OrderKey): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    if (isObject(value)) return value;
    findings.fail(check, `${file} is not a JSON object`, key);
  } catch (error) {
    findings.fail(check, `${file} is not valid UTF-8 JSON (${(error as Error).message.slice(0, 80)})`, key);
  }
  return undefined;
}

export function str(object: JsonObject | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' ? value : undefined;
}

export function int(object: JsonObject | undefined, key: string): number | undefined {
  const value = object?.[key];
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

export function obj(object: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = object?.[key];
  return isObject(value) ? value : undefined;
}

export function list(object: JsonObject | undefined, key: string): JsonValue[] | undefined {
  const value = object?.[key];
  return Array.isArray(value) ? value : undefined;
}

/** Deep equality of JSON values (key order ignored). */
export function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]));
  }
  return false;
}
