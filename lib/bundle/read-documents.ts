/**
 * The JSON documents of a bundle (manifest, chain segment, verifier inputs, profile claim,
 * JWKS), parsed as strict UTF-8 JSON objects, with small typed accessors for the checks.
 */
import type { JsonObject, JsonValue } from '../evidence/canonical-json';
import { BUNDLE_FILES } from './bundle';
import type { Bundle } from './bundle';
import type { Findings } from './findings';

export interface BundleDocuments {
  manifest?: JsonObject;
  /** The exact bytes of manifest.json (what a signature covers). */
  manifestBytes?: Buffer;
  segment?: JsonObject;
  segmentBytes?: Buffer;
  verifierInputs?: JsonObject;
  profileClaim?: JsonObject;
  jwks?: JsonObject;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses strict UTF-8 JSON that must be an object; `undefined` (and a finding) otherwise. */
export function parseObject(bytes: Buffer, file: string, findings: Findings, check = 'files'): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    if (isObject(value)) return value;
    findings.fail(check, `${file} is not a JSON object`);
  } catch (error) {
    findings.fail(check, `${file} is not valid UTF-8 JSON (${(error as Error).message.slice(0, 80)})`);
  }
  return undefined;
}

export async function loadDocuments(bundle: Bundle, findings: Findings): Promise<BundleDocuments> {
  const documents: BundleDocuments = {};
  const load = async (file: string): Promise<{ object?: JsonObject; bytes?: Buffer }> => {
    const entry = bundle.files.get(file);
    if (!entry) return {};
    const bytes = await entry.read();
    return { object: parseObject(bytes, file, findings), bytes };
  };
  const manifest = await load(BUNDLE_FILES.manifest);
  documents.manifest = manifest.object;
  documents.manifestBytes = manifest.bytes;
  const segment = await load(BUNDLE_FILES.segment);
  documents.segment = segment.object;
  documents.segmentBytes = segment.bytes;
  documents.verifierInputs = (await load(BUNDLE_FILES.verifierInputs)).object;
  documents.profileClaim = (await load(BUNDLE_FILES.profileClaim)).object;
  documents.jwks = (await load(BUNDLE_FILES.jwks)).object;
  return documents;
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
