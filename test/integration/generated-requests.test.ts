// Requests generated from the spec's OpenAPI skeleton (docs/interop/openapi-skeleton.yaml)
// against a running stack, for every skeleton operation: bodies and parameters the skeleton
// allows get 2xx or a documented 4xx refusal with the error body (403 refusals with their
// evidence pointer); bodies it does not allow get 400 with the error body; never a 5xx, and a
// refused request leaves what is stored as it was. Every answer is validated against the
// skeleton's schema and against our own OpenAPI document.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { parse } from 'yaml';
import { CLASSIFICATIONS } from '../../lib/domain/classification';
import { allowedValue, anyText, mostly, refusedBody } from '../support/schema-arbitrary';
import type { Hints, JsonSchema } from '../support/schema-arbitrary';
import { PINNED_IMAGE, startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

type Json = Record<string, unknown>;
interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
  components: { schemas: Record<string, JsonSchema>; responses?: Record<string, Json> };
}

const skeleton = parse(readFileSync(path.join(__dirname, '../fixtures/ecs-spec/openapi-skeleton.yaml'), 'utf8')) as OpenApi;
const resolveSkeleton = (ref: string): JsonSchema => skeleton.components.schemas[ref.split('/').pop()!]!;
/** Codes of refusals decided by governance rather than by the request's form: each comes with its evidence. */
const GOVERNED_REFUSALS = new Set([
  'ECS_MISSING_AUTHORITY',
  'ECS_MISSING_POLICY',
  'ECS_POLICY_DENIED',
  'ECS_JURISDICTION_DENIED',
  'ECS_FORBIDDEN',
]);
/** Runs per property: enough to reach every branch of the hints many times, small enough for CI. */
const RUNS = 40;

describe('generated requests from the OpenAPI skeleton', () => {
  let env: TestStack;
  let ours: OpenApi;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const tenant = uniqueId('gen');
  let tenantAdmin: string;

  beforeAll(async () => {
    env = await startTestStack();
    ours = (await (await fetch(`${env.url}/v1/openapi.json`)).json()) as OpenApi;
    ajv.addSchema({ $id: 'skeleton.json', components: skeleton.components });
    ajv.addSchema({ $id: 'ours.json', components: ours.components });
    tenantAdmin = await env.token('tenant-admin', tenant);
    const created = await call('POST', '/v1/tenants', {
      id: tenant,
      authority_binding: 'auth-dev-001',
      jurisdiction: 'DE',
      policy_baseline: 'ecs-baseline-v1',
    });
    expect(created.status).toBe(201);
  });
  afterAll(() => env.stop());

  async function call(
    method: string,
    url: string,
    body?: unknown,
    token = env.adminToken,
  ): Promise<{ status: number; body: unknown; text: string }> {
    const response = await fetch(`${env.url}${url}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed, text };
  }

  /** The validator of a documented answer's body in `doc` (`undefined`: the answer has no body). */
  const validators = new Map<string, ValidateFunction | undefined>();
  function bodyValidator(
    doc: OpenApi,
    id: string,
    route: string,
    method: string,
    status: number,
  ): ValidateFunction | undefined | 'undocumented' {
    let answer = doc.paths[route]?.[method]?.responses[String(status)];
    if (!answer) return 'undocumented';
    const key = `${id} ${method} ${route} ${status}`;
    if (validators.has(key)) return validators.get(key);
    if (typeof answer.$ref === 'string') answer = doc.components.responses![answer.$ref.split('/').pop()!]!;
    const schema = (answer.content as Record<string, { schema?: Json }> | undefined)?.['application/json']?.schema;
    const validate = schema
      ? ajv.compile(typeof schema.$ref === 'string' ? { $ref: `${id}${schema.$ref}` } : { ...schema, $id: undefined })
      : undefined;
    validators.set(key, validate);
    return validate;
  }

  /**
   * The answer is no 5xx, documented by the skeleton (or, for our additions such as 409, by our
   * document), and its body is what both documents say; errors carry the error body, 403s
   * their evidence.
   */
  /** A GET whose path goes on the wire byte for byte (fetch would normalise dot segments away). */
  function rawGet(path: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const target = new URL(env.url);
      const request = http.request(
        { host: target.hostname, port: target.port, path, method: 'GET', headers: { authorization: `Bearer ${env.adminToken}` } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      request.setTimeout(10_000, () => request.destroy(new Error(`timeout: ${path}`)));
      request.on('error', reject);
      request.end();
    });
  }

  function expectConforming(route: string, method: string, answer: { status: number; body: unknown; text: string }, request: string): void {
    const where = `${method.toUpperCase()} ${route} (${request}) -> ${answer.status} ${answer.text.slice(0, 300)}`;
    if (answer.status >= 500) throw new Error(`5xx: ${where}`);
    const skeletonRoute = method === 'delete' && route === '/v1/workloads/{id}' ? '/v1/media/generate' : route;
    const fromSkeleton = bodyValidator(skeleton, 'skeleton.json', skeletonRoute, method, answer.status);
    const fromOurs = bodyValidator(ours, 'ours.json', route, method, answer.status);
    if (fromOurs === 'undocumented') throw new Error(`not in our OpenAPI document: ${where}`);
    // Our additions to the skeleton's statuses: 409 (conflicts), 400 where the skeleton lists none.
    if (fromSkeleton === 'undocumented' && ![400, 409].includes(answer.status)) throw new Error(`not in the skeleton: ${where}`);
    for (const validate of [fromSkeleton, fromOurs]) {
      if (typeof validate === 'function' && !validate(answer.body)) throw new Error(`${ajv.errorsText(validate.errors)}: ${where}`);
    }
    if (answer.status >= 400) {
      const error = answer.body as Json;
      if (typeof error?.code !== 'string' || typeof error.message !== 'string') throw new Error(`no error body: ${where}`);
      // A governed refusal (the policy, the authority, the tenant's state) names its evidence.
      if ((answer.status === 403 || GOVERNED_REFUSALS.has(String(error.code))) && typeof error.evidence_pointer !== 'string') {
        throw new Error(`a refusal without evidence: ${where}`);
      }
    }
  }

  const tenantHints: Hints = {
    id: fc.oneof(
      { weight: 9, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/) },
      { weight: 1, arbitrary: fc.constant(tenant) },
    ),
    authority_binding: mostly(['auth-dev-001'], ['no-such-binding']),
    jurisdiction: mostly(['DE', 'FR', 'EU', 'EEA'], ['XX', 'de']),
    classification_ceiling: mostly(CLASSIFICATIONS, ['top-secret']),
    policy_baseline: mostly(['ecs-baseline-v1'], ['no-such-baseline']),
    status: mostly(['active'], ['suspended', 'deleted']),
  };
  const workloadHints: Hints = {
    id: fc.oneof(
      { weight: 5, arbitrary: fc.uuid() },
      { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/) },
      { weight: 1, arbitrary: fc.constant('') },
    ),
    tenant_id: mostly([tenant], ['someone-else']),
    image_ref: mostly([PINNED_IMAGE], ['registry.example.eu/app:1.0', 'docker.io/library/nginx:latest', 'NOT AN IMAGE']),
    policy_ref: fc.constantFrom('baseline', 'x'),
    status: mostly(['admitted'], ['running']),
  };
  const tenantSnapshot = async (id: string) => (await call('GET', `/v1/tenants/${encodeURIComponent(id)}`)).text;
  const workloadRows = () => env.stack.services.db.prisma.workload.count();

  it('POST /v1/tenants: bodies the skeleton allows are created or refused as documented; a refusal stores nothing', async () => {
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(allowedValue({ $ref: '#/components/schemas/Tenant' }, resolveSkeleton, tenantHints), async (body) => {
        const id = String((body as Json).id);
        const before = await tenantSnapshot(id);
        const answer = await call('POST', '/v1/tenants', body);
        statuses.push(answer.status);
        expectConforming('/v1/tenants', 'post', answer, JSON.stringify(body));
        if (answer.status === 201) expect((answer.body as Json).id).toBe(id);
        else expect(await tenantSnapshot(id)).toBe(before);
      }),
      {
        numRuns: RUNS,
        // One body that is created and one that clashes with an existing tenant, on every run.
        examples: [
          [
            {
              id: uniqueId(),
              jurisdiction: 'DE',
              classification_ceiling: 'internal',
              policy_baseline: 'ecs-baseline-v1',
              authority_binding: 'auth-dev-001',
            },
          ],
          [
            {
              id: tenant,
              jurisdiction: 'DE',
              classification_ceiling: 'internal',
              policy_baseline: 'ecs-baseline-v1',
              authority_binding: 'auth-dev-001',
            },
          ],
        ],
      },
    );
    // The generated bodies reach both sides of the business rules.
    expect(statuses.some((status) => status === 201) && statuses.some((status) => status >= 400)).toBe(true);
  });

  it('POST /v1/tenants: bodies the skeleton does not allow are 400 with the error body', async () => {
    await fc.assert(
      fc.asyncProperty(
        refusedBody({ $ref: '#/components/schemas/Tenant' }, resolveSkeleton, { hints: tenantHints }),
        async ({ body, how }) => {
          const given = typeof body === 'object' && body !== null ? (body as Json).id : undefined;
          const id = typeof given === 'string' && given !== '' ? given : uniqueId();
          const before = await tenantSnapshot(id);
          const answer = await call('POST', '/v1/tenants', body);
          expectConforming('/v1/tenants', 'post', answer, how);
          expect([how, answer.status]).toEqual([how, 400]);
          expect(await tenantSnapshot(id)).toBe(before);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('PATCH /v1/tenants/{id}: skeleton Tenant bodies are applied or refused as documented, and a refusal changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        allowedValue({ $ref: '#/components/schemas/Tenant' }, resolveSkeleton, { ...tenantHints, id: fc.constant(tenant) }),
        async (body) => {
          const before = await tenantSnapshot(tenant);
          const answer = await call('PATCH', `/v1/tenants/${tenant}`, body);
          expectConforming('/v1/tenants/{id}', 'patch', answer, JSON.stringify(body));
          if (answer.status !== 200) expect(await tenantSnapshot(tenant)).toBe(before);
        },
      ),
      { numRuns: RUNS },
    );
    // The tenant is usable afterwards whatever was applied: put it back for the workload properties.
    const restored = await call('PATCH', `/v1/tenants/${tenant}`, {
      jurisdiction: 'DE',
      classification_ceiling: 'internal',
      policy_baseline: 'ecs-baseline-v1',
      authority_binding: 'auth-dev-001',
    });
    expect(restored.status).toBe(200);
  });

  it('POST /v1/workloads: bodies the skeleton allows are admitted or refused as documented; a refusal stores nothing', async () => {
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(allowedValue({ $ref: '#/components/schemas/Workload' }, resolveSkeleton, workloadHints), async (body) => {
        const rows = await workloadRows();
        const answer = await call('POST', '/v1/workloads', body, tenantAdmin);
        statuses.push(answer.status);
        expectConforming('/v1/workloads', 'post', answer, JSON.stringify(body));
        if (answer.status === 201) {
          expect((answer.body as Json).id).toBe((body as Json).id ?? expect.any(String));
          expect(await workloadRows()).toBe(rows + 1);
        } else {
          expect(await workloadRows()).toBe(rows);
        }
      }),
      {
        numRuns: RUNS,
        // Both sides of the business rules on every run, whatever the random draws give: one body that is
        // admitted and one for another tenant, which the tenant administrator may not create.
        examples: [
          [{ id: uniqueId(), tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE }],
          [{ id: uniqueId(), tenant_id: 'someone-else', envelope_type: 'container', image_ref: PINNED_IMAGE }],
        ],
      },
    );
    expect(statuses.some((status) => status === 201) && statuses.some((status) => status === 403)).toBe(true);
  });

  it('POST /v1/workloads: bodies the skeleton does not allow are 400 with the error body, and store nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        refusedBody({ $ref: '#/components/schemas/Workload' }, resolveSkeleton, {
          hints: workloadHints,
          // Ours beyond the skeleton's members; `id` the skeleton requires, but the server makes one.
          alsoAccepted: ['jurisdiction', 'classification'],
          ways: ['unlisted', 'not_object', 'wrong_type'],
        }),
        async ({ body, how }) => {
          const rows = await workloadRows();
          const answer = await call('POST', '/v1/workloads', body, tenantAdmin);
          expectConforming('/v1/workloads', 'post', answer, how);
          expect([how, answer.status]).toEqual([how, 400]);
          expect(await workloadRows()).toBe(rows);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('GET, DELETE and suspend with any path id answer as documented, never 5xx', async () => {
    const operations: Array<[string, string, (id: string) => string]> = [
      ['get', '/v1/tenants/{id}', (id) => `/v1/tenants/${id}`],
      ['delete', '/v1/tenants/{id}', (id) => `/v1/tenants/${id}`],
      ['post', '/v1/tenants/{id}/suspend', (id) => `/v1/tenants/${id}/suspend`],
      ['get', '/v1/workloads/{id}', (id) => `/v1/workloads/${id}`],
      ['delete', '/v1/workloads/{id}', (id) => `/v1/workloads/${id}`],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...operations),
        // "." and ".." are dot segments: a WHATWG URL client (fetch) removes them before sending, so the request
        // would be for another path; the raw-HTTP test below sends them as they are.
        anyText.filter((id) => id.length > 0 && id !== tenant && id !== '.' && id !== '..'),
        async ([method, route, url], id) => {
          const answer = await call(method.toUpperCase(), url(encodeURIComponent(id)));
          expectConforming(route, method, answer, JSON.stringify(id));
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('dot segments sent as they are name no tenant or workload: 404 in the error body, never the list', async () => {
    for (const path of ['/v1/tenants/.', '/v1/tenants/..', '/v1/tenants/%2e', '/v1/tenants/%2E%2E', '/v1/workloads/.']) {
      const answer = await rawGet(path);
      expect([path, answer.status]).toEqual([path, 404]);
      const body = JSON.parse(answer.text) as Json;
      expect(typeof body.code).toBe('string');
      expect(typeof body.message).toBe('string');
    }
  });

  it('GET /v1/events with any query parameters the skeleton lists answers as documented, never 5xx', async () => {
    const parameters = fc.record(
      {
        tenant: fc.oneof(fc.constant(tenant), anyText),
        cursor: anyText,
        limit: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: -5, max: 5000 })),
        event_type: fc.oneof(fc.constantFrom('tenant.create', 'workload.*', 'data.usage.receipt'), anyText),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(parameters, async (query) => {
        const search = new URLSearchParams(Object.entries(query).map(([name, value]): [string, string] => [name, String(value)]));
        const answer = await call('GET', `/v1/events?${search.toString()}`, undefined, tenantAdmin);
        expectConforming('/v1/events', 'get', answer, search.toString());
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
