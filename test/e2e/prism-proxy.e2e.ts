import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { listedDeviations } from '../support/conformance-doc';
import { ECS_SPEC_FIXTURES } from '../support/ecs-spec';
import { readViolations, startPrismProxy } from '../support/prism-proxy';
import type { PrismProxy, PrismViolation } from '../support/prism-proxy';
import { PINNED_IMAGE, startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

/**
 * Every operation of the ECS OpenAPI skeleton, sent the way a client written from the skeleton
 * sends it, through Stoplight Prism in proxy mode in front of the whole stack. Prism checks
 * each request and response against the skeleton with its own validator; every violation of
 * severity error or warning (a warning is how Prism says it matched no operation, and so checked
 * nothing, or met a status the operation does not list) must be a deviation listed with its
 * reason in docs/conformance.md, and every listed deviation must still be observed.
 *
 * The contract does not depend on the database, so this runs on the embedded one only (see
 * jest.config.js); test/integration/rest-conformance.test.ts covers both.
 */

const SKELETON = path.join(ECS_SPEC_FIXTURES, 'openapi-skeleton.yaml');
const SECTION = 'Deviations found by Prism';
/** Prism's word for a request it forwarded without checking: no operation of the document matched. */
const ROUTE_NOT_FOUND = 'Selected route not found';
const UNKNOWN_ID = 'no-such-id';

type Json = Record<string, unknown>;

interface Call {
  /** The skeleton operation meant, `METHOD /path/{template}`. */
  operation: string;
  path: string;
  body?: unknown;
  /** Bearer token; null sends no credentials. @default the platform administrator's */
  token?: string | null;
  /**
   * Why the request is wrong by the skeleton (no credentials, a missing required field, ...).
   * Prism must then flag the request; those flags are the point of the call, not deviations.
   */
  invalid?: string;
}

interface Exchange {
  call: Call;
  status: number;
  body: Json | undefined;
  violations: PrismViolation[];
}

const describeViolation = (violation: PrismViolation): string => `${violation.location.join('.')}: ${violation.message}`;

describe('the REST surface through Prism proxying against the ECS OpenAPI skeleton', () => {
  let env: TestStack | undefined;
  let prism: PrismProxy | undefined;
  const exchanges: Exchange[] = [];

  beforeAll(async () => {
    env = await startTestStack();
    prism = await startPrismProxy({ document: SKELETON, upstream: env.url });
  });
  afterAll(async () => {
    await prism?.stop();
    await env?.stop();
  });

  const send = async (call: Call): Promise<Exchange> => {
    const token = call.token === undefined ? env!.adminToken : call.token;
    const [method] = call.operation.split(' ') as [string];
    const response = await fetch(`${prism!.url}${call.path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    });
    const text = await response.text();
    const exchange: Exchange = {
      call,
      status: response.status,
      body: text && response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Json) : undefined,
      violations: readViolations(response.headers),
    };
    exchanges.push(exchange);
    return exchange;
  };
  const expectStatus = async (status: number, call: Call): Promise<Exchange> => {
    const exchange = await send(call);
    expect({ operation: call.operation, path: call.path, status: exchange.status }).toEqual({
      operation: call.operation,
      path: call.path,
      status,
    });
    return exchange;
  };

  it('answers every skeleton operation, success and error, with only the listed deviations', async () => {
    const tenant = uniqueId('prism');
    const workload = uniqueId('prism-w');
    const tenantPath = `/v1/tenants/${tenant}`;
    const tenantBody = { id: tenant, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' };

    // POST /v1/tenants
    await expectStatus(201, { operation: 'POST /v1/tenants', path: '/v1/tenants', body: tenantBody });
    await expectStatus(401, {
      operation: 'POST /v1/tenants',
      path: '/v1/tenants',
      body: tenantBody,
      token: null,
      invalid: 'no credentials',
    });
    const { policy_baseline: _omitted, ...withoutBaseline } = { ...tenantBody, id: uniqueId('prism') };
    await expectStatus(400, {
      operation: 'POST /v1/tenants',
      path: '/v1/tenants',
      body: withoutBaseline,
      invalid: 'policy_baseline is required',
    });

    // GET /v1/tenants/{id}
    const current = await expectStatus(200, { operation: 'GET /v1/tenants/{id}', path: tenantPath });
    await expectStatus(401, { operation: 'GET /v1/tenants/{id}', path: tenantPath, token: null, invalid: 'no credentials' });
    await expectStatus(404, { operation: 'GET /v1/tenants/{id}', path: `/v1/tenants/${UNKNOWN_ID}` });

    // PATCH /v1/tenants/{id}: the skeleton's body is the whole Tenant, status included.
    const whole = { ...tenantBody, classification_ceiling: current.body?.classification_ceiling, status: current.body?.status };
    await expectStatus(200, { operation: 'PATCH /v1/tenants/{id}', path: tenantPath, body: { ...whole, jurisdiction: 'FR' } });
    // What a client of an update usually sends: only the field it changes.
    await expectStatus(200, { operation: 'PATCH /v1/tenants/{id}', path: tenantPath, body: { jurisdiction: 'DE' } });
    await expectStatus(400, { operation: 'PATCH /v1/tenants/{id}', path: tenantPath, body: { ...whole, status: 'suspended' } });
    await expectStatus(401, { operation: 'PATCH /v1/tenants/{id}', path: tenantPath, body: whole, token: null, invalid: 'no credentials' });
    await expectStatus(404, { operation: 'PATCH /v1/tenants/{id}', path: `/v1/tenants/${UNKNOWN_ID}`, body: { ...whole, id: UNKNOWN_ID } });

    // POST /v1/workloads: the skeleton's required fields and nothing else.
    const workloadBody = { id: workload, tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE };
    await expectStatus(201, { operation: 'POST /v1/workloads', path: '/v1/workloads', body: workloadBody });
    await expectStatus(401, {
      operation: 'POST /v1/workloads',
      path: '/v1/workloads',
      body: workloadBody,
      token: null,
      invalid: 'no credentials',
    });
    await expectStatus(400, {
      operation: 'POST /v1/workloads',
      path: '/v1/workloads',
      body: { ...workloadBody, id: uniqueId('prism-w'), envelope_type: 'unikernel' },
      invalid: 'envelope_type is container or vm',
    });

    // GET /v1/workloads/{id}
    await expectStatus(200, { operation: 'GET /v1/workloads/{id}', path: `/v1/workloads/${workload}` });
    await expectStatus(401, {
      operation: 'GET /v1/workloads/{id}',
      path: `/v1/workloads/${workload}`,
      token: null,
      invalid: 'no credentials',
    });
    await expectStatus(404, { operation: 'GET /v1/workloads/{id}', path: `/v1/workloads/${UNKNOWN_ID}` });

    // GET /v1/events
    const page = await expectStatus(200, { operation: 'GET /v1/events', path: `/v1/events?tenant=${tenant}&limit=2` });
    expect(page.body?.next_cursor).toEqual(expect.any(String));
    const cursor = encodeURIComponent(String(page.body?.next_cursor));
    await expectStatus(200, { operation: 'GET /v1/events', path: `/v1/events?tenant=${tenant}&limit=2&cursor=${cursor}` });
    await expectStatus(200, { operation: 'GET /v1/events', path: `/v1/events?tenant=${tenant}&event_type=workload.admit` });
    await expectStatus(401, { operation: 'GET /v1/events', path: '/v1/events', token: null, invalid: 'no credentials' });
    await expectStatus(400, { operation: 'GET /v1/events', path: '/v1/events?limit=5000', invalid: 'limit is at most 1000' });

    // DELETE /v1/workloads/{id}
    await expectStatus(401, {
      operation: 'DELETE /v1/workloads/{id}',
      path: `/v1/workloads/${workload}`,
      token: null,
      invalid: 'no credentials',
    });
    await expectStatus(204, { operation: 'DELETE /v1/workloads/{id}', path: `/v1/workloads/${workload}` });
    await expectStatus(404, { operation: 'DELETE /v1/workloads/{id}', path: `/v1/workloads/${UNKNOWN_ID}` });

    // POST /v1/tenants/{id}/suspend
    await expectStatus(401, {
      operation: 'POST /v1/tenants/{id}/suspend',
      path: `${tenantPath}/suspend`,
      token: null,
      invalid: 'no credentials',
    });
    await expectStatus(404, { operation: 'POST /v1/tenants/{id}/suspend', path: `/v1/tenants/${UNKNOWN_ID}/suspend` });
    await expectStatus(202, { operation: 'POST /v1/tenants/{id}/suspend', path: `${tenantPath}/suspend` });

    // DELETE /v1/tenants/{id}
    await expectStatus(401, { operation: 'DELETE /v1/tenants/{id}', path: tenantPath, token: null, invalid: 'no credentials' });
    await expectStatus(404, { operation: 'DELETE /v1/tenants/{id}', path: `/v1/tenants/${UNKNOWN_ID}` });
    await expectStatus(204, { operation: 'DELETE /v1/tenants/{id}', path: tenantPath });

    // A request the skeleton rules out is one Prism flags (else its findings would prove little),
    // unless it matched no operation: then Prism checked nothing, which is a deviation of its own.
    for (const { call, violations } of exchanges.filter((exchange) => exchange.call.invalid)) {
      const flagged = violations.some(
        (violation) => (violation.location[0] === 'request' && violation.severity === 'Error') || violation.message === ROUTE_NOT_FOUND,
      );
      expect({ call, flagged }).toEqual({ call, flagged: true });
    }

    // Everything else Prism reports as an error or a warning (a request it could not match to an
    // operation, a status the operation does not list) is a listed deviation.
    const observed = new Map<string, string[]>();
    for (const { call, violations } of exchanges) {
      for (const violation of violations) {
        if (call.invalid && violation.location[0] === 'request') continue;
        if (violation.severity !== 'Error' && violation.severity !== 'Warning') continue;
        const key = `${call.operation} | ${describeViolation(violation)}`;
        observed.set(key, [...(observed.get(key) ?? []), `${call.operation.split(' ')[0]} ${call.path}`]);
      }
    }
    const listed = listedDeviations(SECTION).map(({ subject, violation }) => `${subject} | ${violation}`);
    const unlisted = [...observed.keys()].filter((key) => !listed.includes(key)).map((key) => `${key} (${observed.get(key)!.join(', ')})`);
    expect({ unlisted }).toEqual({ unlisted: [] });
    const stale = listed.filter((key) => !observed.has(key));
    expect({ stale }).toEqual({ stale: [] });

    // Every operation of the skeleton was answered with success at least once.
    const skeleton = parse(readFileSync(SKELETON, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const succeeded = new Set(exchanges.filter(({ status }) => status < 300).map(({ call }) => call.operation));
    const operations = Object.entries(skeleton.paths).flatMap(([route, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${route}`),
    );
    // The skeleton files "Delete workload" under /v1/media/generate, whose POST is an optional
    // capability (MAY) this gateway does not offer.
    const served: Record<string, string | undefined> = {
      'DELETE /v1/media/generate': 'DELETE /v1/workloads/{id}',
      'POST /v1/media/generate': undefined,
    };
    for (const operation of operations) {
      const ours = operation in served ? served[operation] : operation;
      if (ours !== undefined) expect({ operation: ours, succeeded: succeeded.has(ours) }).toEqual({ operation: ours, succeeded: true });
    }

    // Prism ran on this machine alone: it reached for nothing but the gateway.
    expect(prism!.remoteConnections()).toEqual([]);
  });
});
