/**
 * A readable yet deterministic rendering of JSON: RFC 8785 key order and scalar forms
 * (via `canonicalJson`), two-space indentation, one trailing newline. The same value always
 * gives the same bytes, so a signature over the file is a signature over the canonical
 * manifest, and any change to the file (whitespace included) breaks it.
 */
import { canonicalJson } from '../evidence/canonical-json';
import type { JsonValue } from '../evidence/canonical-json';

function render(value: JsonValue, indent: string): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => inner + render(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    // JCS orders keys by UTF-16 code units, which is what the default sort compares.
    const keys = Object.keys(value).sort();
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((key) => `${inner}${canonicalJson(key)}: ${render(value[key]!, inner)}`).join(',\n')}\n${indent}}`;
  }
  return canonicalJson(value);
}

export function prettyCanonicalJson(value: JsonValue): string {
  return `${render(value, '')}\n`;
}
