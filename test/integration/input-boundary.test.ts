import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { buildSchema, getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType } from 'graphql';
import type { GraphQLArgument, GraphQLField, GraphQLInputType, GraphQLSchema } from 'graphql';
import { SUPERGRAPH_FILE } from '../../gateway/supergraph-file';
import { z } from 'zod';
import { textProblem } from '../../lib/input/unsafe-text';
import type { TextRule } from '../../lib/input/unsafe-text';
import { ROUTES } from '../../rest-adapter/routes';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

/**
 * The input boundary (checklist 64), tried as an attacker would: every REST route and every
 * GraphQL argument gets text the service cannot carry (lone surrogates, NUL, C0 and C1
 * controls, line separators) and random Unicode. Never a 5xx; malformed text is a 400 that
 * names the field and carries a pointer to a recorded refusal; every chain still verifies.
 */

/** Values every case is tried with, besides the random ones. */
const EXPLICIT = [
  '\ud800',
  'a\udfffb',
  '\udc00\ud800',
  'x\u0000y',
  '\u0001',
  'tab\there',
  '\u001f',
  '\u007f',
  'c1\u0085',
  '\u009f',
  'ls\u2028',
  'é😀漢',
  '',
];

const controls = fc.constantFrom('\u0000', '\u0007', '\n', '\u001b', '\u007f', '\u0080', '\u0085', '\u009b', '\u2028', '\u2029');
const surrogates = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
/** Random Unicode (any code point), lone surrogates and controls mixed in. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc
    .array(fc.oneof(controls, surrogates, fc.string({ unit: 'binary', maxLength: 3 })), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join('')),
);
const RANDOM_RUNS = 6;

/** Percent-encodes as a client would, lone surrogates as the 3-byte sequences a sloppy encoder emits. */
function encodeSegment(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    const pair =
      code >= 0xd800 && code <= 0xdbff && i + 1 < value.length && value.charCodeAt(i + 1) >= 0xdc00 && value.charCodeAt(i + 1) <= 0xdfff;
    if (pair) {
      out += encodeURIComponent(value.slice(i, i + 2));
      i += 1;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out +=
        `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
    } else {
      out += encodeURIComponent(value[i]!);
    }
  }
  return out;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

interface RestCase {
  name: string;
  /** The request for a value, and the rule the value breaks when it is malformed. */
  build(value: string): { method: string; path: string; body?: unknown; rule: TextRule };
}

function restCases(ids: { tenant: string; bucket: string }): RestCase[] {
  const cases: RestCase[] = [];
  for (const route of ROUTES) {
    const params = [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1]!);
    const queryKeys = route.query instanceof z.ZodObject ? Object.keys(route.query.shape) : [];
    const bodyKeys = route.body instanceof z.ZodObject ? Object.keys(route.body.shape) : [];
    const method = route.method.toUpperCase();
    const fill = (value: string, only?: string) =>
      route.path.replace(/:(\w+)/g, (_all, name: string) =>
        name === only ? encodeSegment(value) : name === 'bucket' ? ids.bucket : ids.tenant,
      );
    for (const param of params)
      cases.push({
        name: `${method} ${route.path} :${param}`,
        build: (value) => ({ method, path: `/v1${fill(value, param)}`, rule: 'line' }),
      });
    for (const key of queryKeys) {
      cases.push({
        name: `${method} ${route.path} ?${key}`,
        build: (value) => ({ method, path: `/v1${fill('x')}?${key}=${encodeSegment(value)}`, rule: 'line' }),
      });
    }
    if (bodyKeys.length) {
      cases.push({
        name: `${method} ${route.path} body`,
        build: (value) => ({
          method,
          path: `/v1${fill('x')}`,
          body: Object.fromEntries(bodyKeys.map((key) => [key, value])),
          rule: 'text',
        }),
      });
    }
  }
  // Storage object routes, streamed to the data plane (not in the route table).
  const objects = `/v1/storage/${ids.bucket}/objects`;
  cases.push(
    { name: 'PUT object :key', build: (value) => ({ method: 'PUT', path: `${objects}/${encodeSegment(value)}`, rule: 'line' }) },
    { name: 'GET object :key', build: (value) => ({ method: 'GET', path: `${objects}/${encodeSegment(value)}`, rule: 'line' }) },
    {
      name: 'DELETE object :key',
      build: (value) => ({ method: 'DELETE', path: `${objects}/${encodeSegment(value)}?version_id=${encodeSegment(value)}`, rule: 'line' }),
    },
    { name: 'GET objects ?prefix', build: (value) => ({ method: 'GET', path: `${objects}?prefix=${encodeSegment(value)}`, rule: 'line' }) },
    {
      name: 'PUT object ?legal_hold body',
      build: (value) => ({ method: 'PUT', path: `${objects}/k?legal_hold`, body: { status: 'ON', reason: value }, rule: 'text' }),
    },
    {
      name: 'GET export bundle :id',
      build: (value) => ({ method: 'GET', path: `/v1/exports/${encodeSegment(value)}/bundle`, rule: 'line' }),
    },
  );
  return cases;
}

/** A plausible value of a GraphQL input type, with `value` in every string position. */
function sample(type: GraphQLInputType, value: string, depth = 0): unknown {
  if (isNonNullType(type)) return sample(type.ofType, value, depth);
  if (isListType(type)) return [sample(type.ofType, value, depth)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    if (depth > 3) return {};
    return Object.fromEntries(Object.values(type.getFields()).map((field) => [field.name, sample(field.type, value, depth + 1)]));
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return 1;
      case 'Float':
        return 1.5;
      case 'Boolean':
        return true;
      case 'DateTime':
        return '2030-01-01T00:00:00Z';
      case 'JSONObject':
        return { note: value };
      default:
        return value;
    }
  }
  return value;
}

interface GraphQLCase {
  name: string;
  query: string;
  variables(value: string): Record<string, unknown>;
}

function graphqlCases(schema: GraphQLSchema): GraphQLCase[] {
  const cases: GraphQLCase[] = [];
  const roots = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const;
  for (const [operation, root] of roots) {
    for (const field of Object.values(root?.getFields() ?? {}) as Array<GraphQLField<unknown, unknown>>) {
      if (field.args.length === 0 || field.name.startsWith('_')) continue;
      const args: readonly GraphQLArgument[] = field.args;
      const selection = isObjectType(getNamedType(field.type)) ? '{ __typename }' : '';
      const declared = args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
      const passed = args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
      cases.push({
        name: `${operation} ${field.name}`,
        query: `${operation} Fuzz(${declared}) { ${field.name}(${passed}) ${selection} }`,
        variables: (value) => Object.fromEntries(args.map((arg) => [arg.name, sample(arg.type, value)])),
      });
    }
  }
  return cases;
}

/** Codes that mean the service failed rather than refused. */
const FAILURE_CODES = new Set(['ECS_INTERNAL', 'ECS_DEPENDENCY_UNAVAILABLE']);

describe('the input boundary', () => {
  let env: TestStack;
  let tenant: string;
  let bucket: string;
  let tokens: string[];
  const pointers = new Set<string>();

  beforeAll(async () => {
    env = await startTestStack();
    tenant = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
    const created = await env.gql<{ createBucket: { name: string } }>(
      'mutation($i: CreateBucketInput!) { createBucket(input: $i) { name } }',
      {
        i: { tenantId: tenant, name: uniqueId('b'), jurisdiction: 'DE' },
      },
    );
    expect(created.errors).toBeUndefined();
    bucket = created.data!.createBucket.name;
    tokens = [env.adminToken, await env.token('tenant-admin', tenant), await env.token('reader', 'other-tenant')];
  });
  afterAll(() => env.stop());

  async function send(token: string, request: { method: string; path: string; body?: unknown }): Promise<Answer> {
    const abort = new AbortController();
    const response = await fetch(`${env.url}${request.path}`, {
      method: request.method,
      headers: { authorization: `Bearer ${token}`, ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: request.body !== undefined ? JSON.stringify(request.body) : undefined,
      signal: abort.signal,
    });
    // Streams (SSE, bundles, objects) are not read past their headers.
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('application/json')) {
      abort.abort();
      return { status: response.status, body: {} };
    }
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** The invariant of one answer; returns a description of a violation, or undefined. */
  function violation(answer: Answer, value: string, rule: TextRule): string | undefined {
    if (answer.status >= 500) return `status ${answer.status} ${JSON.stringify(answer.body)}`;
    const errors = (answer.body.errors as Array<{ extensions?: Record<string, unknown> }> | undefined) ?? [];
    const codes = [answer.body.code, ...errors.map((error) => error.extensions?.code)].filter((code) => code !== undefined);
    const failed = codes.find((code) => FAILURE_CODES.has(code as string));
    if (failed) return `code ${String(failed)} ${JSON.stringify(answer.body)}`;
    const refusals = [answer.body, ...errors.map((error) => error.extensions ?? {})].filter((body) => body.code === 'ECS_FORBIDDEN');
    if (refusals.some((body) => typeof body.evidence_pointer !== 'string')) return `a 403 without evidence ${JSON.stringify(answer.body)}`;
    for (const body of [answer.body, ...errors.map((error) => error.extensions ?? {})]) {
      if (typeof body.evidence_pointer === 'string') pointers.add(body.evidence_pointer);
    }
    if (textProblem(value, rule) && answer.status !== 401) {
      const malformed = [answer.body, ...errors.map((error) => error.extensions ?? {})].find(
        (body) => body.code === 'ECS_BAD_REQUEST' && typeof body.evidence_pointer === 'string',
      );
      if (answer.status !== 400 || !malformed)
        return `malformed ${JSON.stringify(value)} not refused with evidence: ${answer.status} ${JSON.stringify(answer.body)}`;
    }
    return undefined;
  }

  it('checklist 64: every REST route refuses malformed text with a recorded 400 and never answers 5xx', async () => {
    const cases = restCases({ tenant, bucket });
    expect(cases.length).toBeGreaterThan(30);
    const failures: string[] = [];
    await fc
      .assert(
        fc.asyncProperty(
          fc.constantFrom(...cases),
          fc.oneof(fc.constantFrom(...EXPLICIT), nasty),
          fc.constantFrom(0, 1, 2),
          async (testCase, value, who) => {
            const request = testCase.build(value);
            const problem = violation(await send(tokens[who]!, request), value, request.rule);
            if (problem) failures.push(`${testCase.name} ${JSON.stringify(value)}: ${problem}`);
            return problem === undefined;
          },
        ),
        {
          numRuns: cases.length * RANDOM_RUNS,
          examples: cases.flatMap((testCase) => EXPLICIT.map((value, n): [RestCase, string, number] => [testCase, value, n % 3])),
        },
      )
      .catch((error: unknown) => {
        throw new Error(`${failures.slice(0, 5).join('\n')}\n${String(error).slice(0, 2000)}`);
      });
  });

  it('checklist 64: every GraphQL argument refuses malformed text with a recorded 400 and never answers 5xx', async () => {
    // The composed schema as clients see it (introspection would exceed the query limits).
    const cases = graphqlCases(buildSchema(readFileSync(SUPERGRAPH_FILE, 'utf8')));
    expect(cases.length).toBeGreaterThan(30);
    const failures: string[] = [];
    await fc
      .assert(
        fc.asyncProperty(
          fc.constantFrom(...cases),
          fc.oneof(fc.constantFrom(...EXPLICIT), nasty),
          fc.constantFrom(0, 1, 2),
          async (testCase, value, who) => {
            const answer = await send(tokens[who]!, {
              method: 'POST',
              path: '/graphql',
              body: { query: testCase.query, variables: testCase.variables(value) },
            });
            const problem = violation(answer, value, 'text');
            if (problem) failures.push(`${testCase.name} ${JSON.stringify(value)}: ${problem}`);
            return problem === undefined;
          },
        ),
        {
          numRuns: cases.length * RANDOM_RUNS,
          examples: cases.flatMap((testCase) => EXPLICIT.map((value, n): [GraphQLCase, string, number] => [testCase, value, n % 3])),
        },
      )
      .catch((error: unknown) => {
        throw new Error(`${failures.slice(0, 5).join('\n')}\n${String(error).slice(0, 2000)}`);
      });
  });

  it('checklist 64: malformed string literals in a document and claims in tokens are refused the same way', async () => {
    for (const literal of ['"a\\u0000"', '"\\ud800"', '"c1\\u0085"', '"\\u{DFFF}"']) {
      const answer = await send(env.adminToken, { method: 'POST', path: '/graphql', body: { query: `{ tenant(id: ${literal}) { id } }` } });
      const error = (answer.body.errors as Array<{ extensions: Record<string, unknown> }>)[0]!;
      expect([literal, answer.status, error.extensions.code, typeof error.extensions.evidence_pointer]).toEqual([
        literal,
        400,
        'ECS_BAD_REQUEST',
        'string',
      ]);
    }
    for (const subject of ['admin\u0000', 'x\ud800', 'ops\u0085']) {
      const token = await env.token('platform-admin', undefined, { subject });
      const answer = await send(token, { method: 'GET', path: `/v1/tenants/${tenant}` });
      expect([JSON.stringify(subject), answer.status, answer.body.code, typeof answer.body.evidence_pointer]).toEqual([
        JSON.stringify(subject),
        401,
        'ECS_UNAUTHENTICATED',
        'string',
      ]);
    }
  });

  it('checklist 64: every refusal pointer names a stored event, and every chain still verifies', async () => {
    expect(pointers.size).toBeGreaterThan(0);
    const stored = await env.stack.services.db.prisma.evidenceEvent.findMany({
      where: { evidencePointer: { in: [...pointers] } },
      select: { evidencePointer: true, tenantId: true },
    });
    expect([...pointers].filter((pointer) => !stored.some((event) => event.evidencePointer === pointer))).toEqual([]);
    const malformed = await env.stack.services.db.prisma.evidenceEvent.findMany({
      where: { eventType: 'request.refusal' },
      select: { canonical: true },
    });
    expect(malformed.length).toBeGreaterThan(0);
    for (const event of malformed) {
      const parsed = JSON.parse(event.canonical) as Record<string, unknown>;
      expect(parsed).toMatchObject({ outcome: 'refused', refusal_reason_class: 'evidence_precondition_failed' });
      // The offending value is kept escaped: the stored text is printable ASCII apart from the JSON itself.
      expect(typeof parsed.field).toBe('string');
      if (parsed.value_excerpt !== undefined) expect(parsed.value_excerpt).toMatch(/^[\x20-\x7e]*$/);
    }
    const chains = [...new Set(stored.map((event) => event.tenantId)), tenant];
    for (const chain of chains) {
      const verified = await env.gql<{ verifyChain: { valid: boolean } }>('query($t: ID!) { verifyChain(tenantId: $t) { valid } }', {
        t: chain,
      });
      expect([chain, verified.data?.verifyChain.valid]).toEqual([chain, true]);
    }
  });
});
