/**
 * OpenTelemetry traces across gateway -> planes -> database, exported with OTLP/HTTP when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, off
 * otherwise. Spans come from the instrumentations of Node's HTTP server and client (every
 * request the gateway and the planes answer), undici (the gateway's mTLS calls to the
 * planes, which carry W3C `traceparent`), GraphQL (parse, validate, each plane's operation and
 * its top-level resolvers; `@apollo/gateway` adds its own plan and fetch spans) and `pg` (the
 * SQL on PostgreSQL; the embedded database has no driver to instrument).
 *
 * Instrumentations patch modules as they are loaded, so this starts before the server's
 * modules are (cli/start.ts imports start-tracing.ts first). Nothing probes cloud metadata
 * endpoints: resource detection is off, the resource is `service.name` alone.
 */
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Query parameters whose values never reach a span: presigned S3 URLs' signature and
 * credential (valid for up to seven days), and any token a client puts in a URL.
 */
const REDACTED_QUERY_PARAMETERS = [
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
  'AWSAccessKeyId',
  'Signature',
  'sig',
  'access_token',
  'token',
  'api_key',
];

/** The span attribute that links a trace to the evidence events of its request. */
export const CORRELATION_ATTRIBUTE = 'ecs.correlation_id';

/** Whether the environment asks for traces. */
export function tracingRequested(environment: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? environment.OTEL_EXPORTER_OTLP_ENDPOINT;
  return endpoint !== undefined && endpoint.trim() !== '' && environment.OTEL_SDK_DISABLED !== 'true';
}

export interface Tracing {
  /** Exports what is pending and stops. */
  shutdown(): Promise<void>;
}

/** Starts the SDK when traces are asked for; undefined otherwise. */
export function startTracing(environment: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!tracingRequested(environment)) return undefined;
  const sdk = new NodeSDK({
    serviceName: environment.OTEL_SERVICE_NAME ?? 'ecs-gateway',
    autoDetectResources: false,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => request.url === '/healthz' || request.url === '/readyz',
        redactedQueryParams: REDACTED_QUERY_PARAMETERS,
        redactedQueryParamsServer: REDACTED_QUERY_PARAMETERS,
      }),
      new UndiciInstrumentation(),
      new GraphQLInstrumentation({ depth: 1, mergeItems: true, ignoreTrivialResolveSpans: true }),
      new PgInstrumentation(),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

/** Marks the active span (the request's) with the correlation id its evidence events carry. */
export function markCorrelation(correlationId: string): void {
  trace.getActiveSpan()?.setAttribute(CORRELATION_ATTRIBUTE, correlationId);
}
