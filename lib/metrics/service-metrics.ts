import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What an operator of the service watches, beside each gateway's HTTP metrics: GraphQL
 * operations, calls to the planes, evidence appends, live subscriptions and export jobs.
 * One registry per process, shared by the code that records and the gateway's `/metrics`
 * (under `npm start` every plane runs in the gateway's process, so one scrape sees it all).
 * Labels never carry tenant ids or other caller data: their values are bounded sets.
 */
export const serviceRegistry = new Registry();

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export const graphqlOperations = new Counter({
  name: 'ecs_graphql_operations_total',
  help: 'GraphQL operations by operation name, type and outcome (ok, errors)',
  labelNames: ['operation', 'type', 'outcome'] as const,
  registers: [serviceRegistry],
});

export const graphqlOperationDuration = new Histogram({
  name: 'ecs_graphql_operation_duration_seconds',
  help: 'GraphQL operation duration by operation name and type, from parsing to the response',
  labelNames: ['operation', 'type'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [serviceRegistry],
});

export const subgraphFetchDuration = new Histogram({
  name: 'ecs_subgraph_fetch_duration_seconds',
  help: 'Calls from the gateway to a plane, by plane and outcome (ok, graphql_errors, refused, unreachable)',
  labelNames: ['subgraph', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [serviceRegistry],
});

export const subgraphFetchErrors = new Counter({
  name: 'ecs_subgraph_fetch_errors_total',
  help: 'Calls from the gateway to a plane that did not answer cleanly, by plane and outcome',
  labelNames: ['subgraph', 'outcome'] as const,
  registers: [serviceRegistry],
});

export const evidenceAppends = new Counter({
  name: 'ecs_evidence_appends_total',
  help: 'Evidence events committed (in transactions or statements of their own), and transactions or own-statement actions that failed (outcome)',
  labelNames: ['outcome'] as const,
  registers: [serviceRegistry],
});

export const evidenceAppendDuration = new Histogram({
  name: 'ecs_evidence_append_duration_seconds',
  help: 'Duration of an evidence transaction or own statement, from its turn on the chain to the commit',
  buckets: LATENCY_BUCKETS,
  registers: [serviceRegistry],
});

export const evidenceLockWait = new Histogram({
  name: 'ecs_evidence_lock_wait_seconds',
  help: "Time an evidence transaction, or the oldest action of an own statement, waited for its turn on the chain (the chain's queue)",
  buckets: LATENCY_BUCKETS,
  registers: [serviceRegistry],
});

export const subscriptionConnections = new Gauge({
  name: 'ecs_subscription_connections',
  help: 'Open websocket connections of live subscriptions',
  registers: [serviceRegistry],
});

/** Each websocket server adds a function that tells how many bytes wait on its sockets. */
export const subscriptionBufferedSources = new Set<() => number>();

export const subscriptionBuffered = new Gauge({
  name: 'ecs_subscription_buffered_bytes',
  help: 'Bytes of live events written to subscription sockets and not yet sent (read at each scrape)',
  registers: [serviceRegistry],
  collect() {
    let bytes = 0;
    for (const source of subscriptionBufferedSources) bytes += source();
    this.set(bytes);
  },
});

export const subscriptionsClosed = new Counter({
  name: 'ecs_subscriptions_closed_total',
  help: 'Live subscription connections closed, by reason',
  labelNames: ['reason'] as const,
  registers: [serviceRegistry],
});

export const exportJobs = new Counter({
  name: 'ecs_export_jobs_total',
  help: 'Evidence export job runs, by outcome (completed, failed, requeued when the process stopped, superseded)',
  labelNames: ['outcome'] as const,
  registers: [serviceRegistry],
});

export const exportJobDuration = new Histogram({
  name: 'ecs_export_job_duration_seconds',
  help: 'Duration of an evidence export job run, by outcome',
  labelNames: ['outcome'] as const,
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
  registers: [serviceRegistry],
});

export const exportJobsRunning = new Gauge({
  name: 'ecs_export_jobs_running',
  help: 'Evidence export jobs running in this process',
  registers: [serviceRegistry],
});

/** Seconds since `started` (a `performance.now()` value). */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
