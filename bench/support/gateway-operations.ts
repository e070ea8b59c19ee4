// The requests the gateway benchmarks send (`bench/gateway.ts`, `bench/gateway-baseline.ts`):
// the tenant they read, the operations with what each answer must hold, and one autocannon run.
import autocannon from 'autocannon';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { registerCleanup, unregisterCleanup } from './run-main';

export const TENANT = 'bench-gateway';
export const WORKLOADS = 3;
const IMAGE_REF = `registry.example.eu/bench/app@sha256:${'cd'.repeat(32)}`;

export type OperationName = 'one-plane' | 'two-plane' | 'three-plane' | 'REST';

/** One kind of request, with what its answer must hold. */
export interface Operation {
  name: OperationName;
  /** The GraphQL query (absent: the REST read). */
  query?: string;
  /** What the answer must hold, or undefined when it does. */
  check(body: unknown): string | undefined;
}

const tenantOf = (body: unknown): Record<string, unknown> | undefined => {
  const { data, errors } = (body ?? {}) as { data?: { tenant?: Record<string, unknown> | null }; errors?: unknown };
  if (errors !== undefined) return undefined;
  return data?.tenant ?? undefined;
};
const lengthOf = (value: unknown): number => (Array.isArray(value) ? value.length : -1);
const graphqlCheck =
  (fields: (tenant: Record<string, unknown>) => string | undefined) =>
  (body: unknown): string | undefined => {
    const tenant = tenantOf(body);
    if (!tenant) return `no data.tenant, or errors: ${JSON.stringify(body).slice(0, 300)}`;
    if (tenant.id !== TENANT) return `tenant ${String(tenant.id)}, not ${TENANT}`;
    return fields(tenant);
  };
const hasWorkloads = (tenant: Record<string, unknown>) =>
  lengthOf(tenant.workloads) === WORKLOADS ? undefined : `${lengthOf(tenant.workloads)} workloads, not ${WORKLOADS}`;

/** One-plane (control), two-plane (+ execution), three-plane (+ data), and the REST read of the tenant. */
export const OPERATIONS: Operation[] = [
  {
    name: 'one-plane',
    query: 'query($id: ID!) { tenant(id: $id) { id status jurisdiction } }',
    check: graphqlCheck((tenant) => (tenant.status === 'active' && tenant.jurisdiction === 'DE' ? undefined : 'status/jurisdiction')),
  },
  {
    name: 'two-plane',
    query: 'query($id: ID!) { tenant(id: $id) { id workloads { id status } } }',
    check: graphqlCheck(hasWorkloads),
  },
  {
    name: 'three-plane',
    query: 'query($id: ID!) { tenant(id: $id) { id workloads { id status } buckets { name jurisdiction } } }',
    check: graphqlCheck((tenant) => hasWorkloads(tenant) ?? (lengthOf(tenant.buckets) === 1 ? undefined : 'not one bucket')),
  },
  {
    name: 'REST',
    check: (body) =>
      (body as { id?: unknown } | null)?.id === TENANT ? undefined : `not the tenant: ${JSON.stringify(body).slice(0, 300)}`,
  },
];

/** A request, as autocannon (or `send`, for setup and checks) sends it. */
export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  headers: Record<string, string>;
  body?: string;
  /** Client certificate and CA, for the mTLS subgraph. */
  tls?: { ca: string; cert: string; key: string };
}

/** The request of `operation` to the gateway at `origin` (`http://host:port`), with a bearer token. */
export function gatewayRequest(origin: string, operation: Operation, token: string): HttpRequest {
  if (!operation.query) return { url: `${origin}/v1/tenants/${TENANT}`, method: 'GET', headers: { authorization: `Bearer ${token}` } };
  return {
    url: `${origin}/graphql`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: operation.query, variables: { id: TENANT } }),
  };
}

/** Sends one request and reads the whole answer; throws on a non-2xx. */
export async function send(dispatcher: Dispatcher, spec: HttpRequest): Promise<string> {
  const response = await request(spec.url, { method: spec.method, headers: spec.headers, body: spec.body, dispatcher });
  const text = await response.body.text();
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw new Error(`${spec.method} ${spec.url}: ${response.statusCode} ${text.slice(0, 300)}`);
  }
  return text;
}

/**
 * Sends `build()`'s request twice and checks both answers against `operation` (throwing with
 * `label` on a problem); returns the answer when both are equal (autocannon then compares every
 * answer with it), undefined when it changes between calls.
 */
export async function checkedAnswer(
  dispatcher: Dispatcher,
  operation: Operation,
  build: () => Promise<HttpRequest> | HttpRequest,
  label: string,
): Promise<string | undefined> {
  const answers: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const text = await send(dispatcher, await build());
    const problem = operation.check(JSON.parse(text));
    if (problem) throw new Error(`${label} / ${operation.name}: ${problem}`);
    answers.push(text);
  }
  return answers[0] === answers[1] ? answers[0] : undefined;
}

/** A development issuer's token for `role`: of one tenant, or platform-wide (undefined). */
export type TokenFor = (role: 'platform-admin' | 'tenant-admin', tenantId: string | undefined) => Promise<string>;

/** The tenant with `WORKLOADS` workloads and one bucket, created through the gateway's REST adapter; its admin's token. */
export async function seedTenant(origin: string, dispatcher: Dispatcher, token: TokenFor): Promise<string> {
  const json = { 'content-type': 'application/json' };
  const admin = { authorization: `Bearer ${await token('platform-admin', undefined)}`, ...json };
  const tenant = { id: TENANT, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' };
  await send(dispatcher, { url: `${origin}/v1/tenants`, method: 'POST', headers: admin, body: JSON.stringify(tenant) });
  const tenantAdmin = await token('tenant-admin', TENANT);
  const headers = { authorization: `Bearer ${tenantAdmin}`, ...json };
  await send(dispatcher, { url: `${origin}/v1/storage/${TENANT}`, method: 'PUT', headers, body: JSON.stringify({ jurisdiction: 'DE' }) });
  for (let i = 0; i < WORKLOADS; i += 1) {
    const workload = { tenant_id: TENANT, envelope_type: 'container', image_ref: IMAGE_REF, jurisdiction: 'DE' };
    await send(dispatcher, { url: `${origin}/v1/workloads`, method: 'POST', headers, body: JSON.stringify(workload) });
  }
  return tenantAdmin;
}

/** One autocannon run's figures. */
export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  mismatches: number;
  /** Answers per HTTP status. */
  statuses: Record<string, number>;
}

/**
 * Runs autocannon once, in one worker thread (so the load generator does not share this
 * process's event loop); every answer is compared with `expectBody` when given. Stopped by
 * the benchmark's cleanups on Ctrl-C.
 */
export function runLoad(spec: HttpRequest, options: { seconds: number; connections: number; expectBody?: string }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let stop: (() => Promise<void>) | undefined;
    const instance = autocannon(
      {
        url: spec.url,
        method: spec.method,
        headers: spec.headers,
        body: spec.body,
        connections: options.connections,
        duration: options.seconds,
        workers: 1,
        ...(spec.tls ? { tlsOptions: spec.tls } : {}),
        ...(options.expectBody === undefined ? {} : { expectBody: options.expectBody }),
      },
      (error: unknown, result: autocannon.Result) => {
        if (stop) unregisterCleanup(stop);
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        resolve({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          requests: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          mismatches: result.mismatches,
          statuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, stats]) => [status, stats?.count ?? 0])),
        });
      },
    );
    stop = async () => instance.stop();
    registerCleanup(stop);
  });
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
