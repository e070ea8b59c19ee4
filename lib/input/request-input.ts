import { isUtf8 } from 'node:buffer';
import { GraphQLError, Kind, parse, visit } from 'graphql';
import type { ASTNode, DocumentNode, OperationTypeNode } from 'graphql';
import { MAX_JSON_DEPTH } from '../http/json-shape';
import { escapeForEvidence, textProblem } from './unsafe-text';
import type { TextProblem, TextRule } from './unsafe-text';

/** A value of a request that the service refuses to carry, and where it was. */
export interface InputFinding {
  /** The field as the caller named it (`tenant_id`, `variables.input.id`, `path`, `query parameter tenant`). */
  field: string;
  problem: TextProblem;
  /** The offending value, when there is one (never stored raw; see escapeForEvidence). */
  value?: string;
}

/** Joins a field path; keys that passed the check are printable, others are escaped. */
function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/**
 * The first string (value or object key) in a JSON value that breaks `rule`, or nesting
 * deeper than `maxDepth`. Iterative, so a hostile depth cannot overflow the stack.
 */
export function findInJson(value: unknown, root: string, rule: TextRule = 'text', maxDepth = MAX_JSON_DEPTH): InputFinding | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      const problem = textProblem(item.value, rule);
      if (problem) return { field: item.path || 'body', problem, value: item.value };
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= maxDepth) return { field: item.path || 'body', problem: 'too_deep' };
    if (Array.isArray(item.value)) {
      item.value.forEach((entry, index) => {
        stack.push({ value: entry, path: child(item.path, index), depth: item.depth + 1 });
      });
      continue;
    }
    for (const [key, entry] of Object.entries(item.value)) {
      const problem = textProblem(key, 'line');
      if (problem) return { field: child(item.path, escapeForEvidence(key)), problem, value: key };
      stack.push({ value: entry, path: child(item.path, key), depth: item.depth + 1 });
    }
  }
  return undefined;
}

/** Strict percent-decoding: undefined when the escapes are not valid UTF-8. */
function decodeStrict(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The first path segment that is not valid UTF-8 once decoded, or holds a control character. */
export function findInPath(rawPath: string): InputFinding | undefined {
  for (const segment of rawPath.split('/')) {
    const decoded = decodeStrict(segment);
    if (decoded === undefined) return { field: 'path', problem: 'invalid_utf8', value: segment };
    const problem = textProblem(decoded, 'line');
    if (problem) return { field: 'path', problem, value: decoded };
  }
  return undefined;
}

/** The first query parameter (name or value) that is not valid UTF-8 or holds a control character. */
export function findInQuery(rawQuery: string): InputFinding | undefined {
  if (!rawQuery) return undefined;
  for (const pair of rawQuery.split('&')) {
    const at = pair.indexOf('=');
    const rawName = at === -1 ? pair : pair.slice(0, at);
    const name = decodeStrict(rawName.replace(/\+/g, ' '));
    if (name === undefined) return { field: 'query', problem: 'invalid_utf8', value: rawName };
    const nameProblem = textProblem(name, 'line');
    if (nameProblem) return { field: 'query', problem: nameProblem, value: name };
    if (at === -1) continue;
    const rawValue = pair.slice(at + 1);
    const value = decodeStrict(rawValue.replace(/\+/g, ' '));
    const field = `query parameter ${name}`;
    if (value === undefined) return { field, problem: 'invalid_utf8', value: rawValue };
    const problem = textProblem(value, 'line');
    if (problem) return { field, problem, value };
  }
  return undefined;
}

/** Request headers whose values the service reads as text (the rest it only compares or ignores). */
const TEXT_HEADERS = /^(?:x-eosc-|last-event-id$|idempotency-key$|x-request-id$)/;

/**
 * The first text header with a control character. Node has already refused NUL, CR and LF
 * in header values; it reads the other bytes as Latin-1, so a C1 byte arrives as U+0080–U+009F.
 */
export function findInHeaders(headers: Record<string, string | string[] | undefined>): InputFinding | undefined {
  for (const [name, raw] of Object.entries(headers)) {
    if (!TEXT_HEADERS.test(name) || raw === undefined) continue;
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      const problem = textProblem(value, 'line');
      if (problem) return { field: `header ${name}`, problem, value };
    }
  }
  return undefined;
}

/** A raw request body that is not valid UTF-8 (JSON parsers would silently put U+FFFD in its place). */
export function findInRawBody(body: Buffer): InputFinding | undefined {
  return isUtf8(body) ? undefined : { field: 'body', problem: 'invalid_utf8' };
}

/** What the GraphQL layer needs to know of a document before running it. */
export type DocumentFacts =
  | {
      kind: 'parsed';
      operations: Array<{ name: string | undefined; type: OperationTypeNode }>;
      /** A string literal in the document that breaks the `text` rule. */
      literal: InputFinding | undefined;
    }
  /** A syntax error (GraphQL's message); an escape naming a lone surrogate is a `literal` finding instead. */
  | { kind: 'syntax'; message: string; literal: InputFinding | undefined }
  /** More tokens than allowed: left to the query limits, which say so in their own words. */
  | { kind: 'too_long' };

/** The argument or input field a literal stands in (`argument id`, `argument input.tenantId`). */
function literalField(
  parent: ASTNode | ReadonlyArray<ASTNode> | undefined,
  ancestors: ReadonlyArray<ASTNode | ReadonlyArray<ASTNode>>,
): string {
  const names: string[] = [];
  for (const ancestor of [...ancestors, parent]) {
    if (ancestor === undefined || Array.isArray(ancestor)) continue;
    const node = ancestor as ASTNode;
    if (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) names.push(node.name.value);
  }
  return names.length ? `argument ${names.join('.')}` : 'query';
}

const SURROGATE_ESCAPE = /Invalid Unicode escape sequence: "\\u\{?0*d[89a-f][0-9a-f]{2}\}?"/i;

/** Facts of a document: its operations and literals, or why it does not parse. */
export function documentFacts(query: string, maxTokens: number): DocumentFacts {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens, noLocation: true });
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    if (/contains more th(?:an|at) \d+ tokens/.test(error.message)) return { kind: 'too_long' };
    const surrogate = SURROGATE_ESCAPE.test(error.message);
    return { kind: 'syntax', message: error.message, literal: surrogate ? { field: 'query', problem: 'lone_surrogate' } : undefined };
  }
  let literal: InputFinding | undefined;
  visit(document, {
    StringValue(node, _key, parent, _path, ancestors) {
      if (literal) return;
      const problem = textProblem(node.value, 'text');
      if (problem) literal = { field: literalField(parent, ancestors), problem, value: node.value };
    },
  });
  const operations = document.definitions.flatMap((definition) =>
    definition.kind === Kind.OPERATION_DEFINITION ? [{ name: definition.name?.value, type: definition.operation }] : [],
  );
  return { kind: 'parsed', operations, literal };
}
