import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminHeaders, killAllServerProcesses, pollReadyz, postGraphQL, startServerProcess } from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { createTestDatabase } from '../../testkit/test-database';
import type { TestDatabase } from '../../testkit/test-database';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, tenantInput, uniqueId } from '../support/test-stack';

/**
 * Traces of a real `npm start` process, exported with OTLP/HTTP (the SDK's own exporter) to
 * a receiver this test runs: one admission is one trace from the gateway's request through
 * the mTLS calls to the planes (W3C traceparent) to the SQL on PostgreSQL, and the trace and
 * the admission's evidence event name the same correlation id.
 */
jest.setTimeout(120_000);

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpRequest {
  resourceSpans?: Array<{ scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }> }>;
}
interface ReceivedSpan extends OtlpSpan {
  scope: string;
}

const SERVER = 2;
const CLIENT = 3;

function attribute(span: OtlpSpan, key: string): string | undefined {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
}

/** An OTLP/HTTP JSON receiver: every span posted to /v1/traces, kept in arrival order. */
async function otlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest;
        for (const resource of body.resourceSpans ?? [])
          for (const scope of resource.scopeSpans ?? [])
            for (const span of scope.spans ?? []) spans.push({ ...span, scope: scope.scope?.name ?? '' });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('traces: gateway -> planes -> database, exported with OTLP', () => {
  let dataDir: { path: string; remove(): Promise<void> };
  let database: TestDatabase;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let server: StartedServer;

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-e2e-trace-');
    database = await createTestDatabase();
    receiver = await otlpReceiver();
    server = await startServerProcess({
      env: {
        DATA_DIR: dataDir.path,
        ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    await pollReadyz(server.origin, Date.now() + 60_000);
  });
  afterAll(async () => {
    await killAllServerProcesses();
    await receiver?.close();
    await database?.drop();
    await dataDir?.remove();
  });

  it('an admission is one trace across the gateway and two planes (and its SQL on PostgreSQL), linked to its evidence by correlation id', async () => {
    const tenantId = uniqueId('trace');
    const headers = await adminHeaders(dataDir.path);
    const tenant = await postGraphQL(server.origin, CREATE_TENANT, { input: tenantInput(tenantId) }, headers);
    expect(tenant.body.errors).toBeUndefined();
    const requestId = `trace-${uniqueId('req')}`;
    const admitted = await postGraphQL<{ createWorkload: { id: string } }>(
      server.origin,
      CREATE_WORKLOAD,
      { input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' } },
      { ...headers, 'x-request-id': requestId },
    );
    expect(admitted.body.errors).toBeUndefined();

    // The gateway's span of the request carries the correlation id its evidence events carry.
    const root = await waitFor('the gateway span of the admission', () =>
      receiver.spans.find((span) => span.kind === SERVER && attribute(span, 'ecs.correlation_id') === requestId && !span.parentSpanId),
    );
    const inTrace = (): ReceivedSpan[] => receiver.spans.filter((span) => span.traceId === root.traceId);
    const planeServers = await waitFor('plane spans in the trace', () => {
      const servers = inTrace().filter((span) => span.kind === SERVER && span.spanId !== root.spanId);
      return servers.length >= 2 ? servers : undefined;
    });
    // Each plane request is the child of a client span of the gateway (traceparent over mTLS).
    const clients = inTrace().filter((span) => span.kind === CLIENT && span.scope.includes('undici'));
    expect(clients.length).toBeGreaterThanOrEqual(2);
    for (const plane of planeServers) expect(clients.map((client) => client.spanId)).toContain(plane.parentSpanId);
    // The planes mark their spans with the same correlation id.
    expect(planeServers.every((span) => attribute(span, 'ecs.correlation_id') === requestId)).toBe(true);
    // The gateway's query plan and the execution plane's operation are in it too.
    const names = inTrace().map((span) => span.name);
    expect(names).toEqual(expect.arrayContaining(['gateway.plan', 'gateway.fetch', 'mutation CreateWorkload__execution__0']));
    if (database.databaseUrl) {
      // The workload row and its evidence, written in one statement within the trace.
      const statement = await waitFor('the SQL of the admission in the trace', () =>
        inTrace().find(
          (span) =>
            span.scope.includes('instrumentation-pg') &&
            span.name.startsWith('pg.query:') &&
            (attribute(span, 'db.query.text') ?? '').includes('INSERT INTO execution_workloads'),
        ),
      );
      expect(attribute(statement, 'db.query.text')).toContain('audit_append_evidence');
    }

    // And back: the admission's evidence event names the request, which names the trace.
    const events = await postGraphQL<{ tenant: { events: Array<{ eventType: string; correlationId: string }> } }>(
      server.origin,
      'query($id: ID!) { tenant(id: $id) { events(last: 10) { eventType correlationId } } }',
      { id: tenantId },
      headers,
    );
    expect(events.body.errors).toBeUndefined();
    const admission = events.body.data!.tenant.events.find((event) => event.eventType.startsWith('workload.'));
    expect(admission?.correlationId).toBe(requestId);
  });
});
