import { MAX_JSON_DEPTH } from '../http/json-shape';

/**
 * Text the service refuses to carry. JavaScript strings may hold lone UTF-16 surrogates,
 * which have no UTF-8 form (PostgreSQL, RFC 8785 canonical JSON and hashes cannot take them),
 * PostgreSQL `text` cannot hold NUL, and control characters in names, ids and logs hide what
 * was really sent. Every string a request brings in is checked against one of two rules:
 *
 * - `line` (path segments, query parameters, headers, token claims, object keys, ids): no
 *   control character at all: C0 (U+0000–U+001F), DEL (U+007F), C1 (U+0080–U+009F), and
 *   the line and paragraph separators U+2028/U+2029.
 * - `text` (JSON body and GraphQL values, where free text such as a reason or a policy may
 *   span lines): the same, except TAB, LF and CR.
 *
 * Both refuse lone surrogates.
 */
export type TextRule = 'line' | 'text';

export type TextProblem = 'lone_surrogate' | 'nul' | 'control_character' | 'invalid_utf8' | 'too_deep';

const LINE_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const TEXT_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/;

/** What is wrong with `value` under `rule`, or undefined when it is acceptable. */
export function textProblem(value: string, rule: TextRule): TextProblem | undefined {
  if (!value.isWellFormed()) return 'lone_surrogate';
  const controls = rule === 'line' ? LINE_CONTROLS : TEXT_CONTROLS;
  const match = controls.exec(value);
  if (!match) return undefined;
  return match[0] === '\u0000' ? 'nul' : 'control_character';
}

/** Human words for a problem, for error messages. */
export function describeProblem(problem: TextProblem): string {
  switch (problem) {
    case 'lone_surrogate':
      return 'is not well-formed Unicode (lone surrogate)';
    case 'nul':
      return 'contains a NUL character';
    case 'control_character':
      return 'contains a control character';
    case 'invalid_utf8':
      return 'is not valid UTF-8';
    case 'too_deep':
      return `is nested deeper than ${MAX_JSON_DEPTH} levels`;
  }
}

/** Longest escaped excerpt of an offending value kept in evidence. */
const EXCERPT_CHARS = 120;

/**
 * An offending value as evidence can always carry it: printable ASCII as is, every other
 * UTF-16 code unit as `\uXXXX` (so lone surrogates and controls stay visible without being
 * stored raw), cut after `EXCERPT_CHARS` characters of the original.
 */
export function escapeForEvidence(value: string): string {
  let out = '';
  const end = Math.min(value.length, EXCERPT_CHARS);
  for (let i = 0; i < end; i += 1) {
    const code = value.charCodeAt(i);
    out += code >= 0x20 && code < 0x7f && code !== 0x5c ? value[i] : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return value.length > EXCERPT_CHARS ? `${out}...` : out;
}

/** `value` when it passes the `text` rule, else its escaped form (for evidence and messages). */
export function safeText(value: string): string {
  return textProblem(value, 'text') ? escapeForEvidence(value) : value;
}

/**
 * A JSON value whose every string (keys included) passes the `text` rule, others escaped:
 * what a refusal records can always be canonicalised, hashed and stored, whatever the
 * refused request carried.
 */
export function safeJson<T>(value: T): T {
  if (typeof value === 'string') return safeText(value) as T;
  if (Array.isArray(value)) return value.map((entry) => safeJson(entry as unknown)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [safeText(key), safeJson(entry as unknown)])) as T;
  }
  return value;
}
