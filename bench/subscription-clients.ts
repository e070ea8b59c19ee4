// Child process of bench/subscription-latency.ts: opens N real graphql-ws clients (one
// websocket each), subscribes each to one tenant's audit events, and reports to the parent
// (IPC) when they are connected and, at the end, when each event arrived at each client.
//
// Started by the parent with `{ url, token, tenantId, clients, expected, afterSequence?,
// profile? }` as JSON in ECS_BENCH_CLIENTS; never run on its own. With the receipts it
// reports its own CPU from `connected` on (and a CPU profile of that span when asked).
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

interface Job {
  url: string;
  token: string;
  /** Absent: every tenant (a platform-wide token). */
  tenantId?: string;
  clients: number;
  /** Events each client waits for before reporting. */
  expected: number;
  afterSequence?: number;
  timeoutMs: number;
  /** Take a CPU profile from `connected` to the last receipt. */
  profile?: boolean;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
const wallClock = (): number => performance.timeOrigin + performance.now();

const QUERY = `subscription($tenantId: ID, $afterSequence: Int) {
  auditEvents(tenantId: $tenantId, afterSequence: $afterSequence) {
    id eventType occurredAt tenantId actor outcome sequence evidencePointer correlationId chainId prevHash eventHash
  }
}`;

async function main(): Promise<void> {
  const job = JSON.parse(process.env.ECS_BENCH_CLIENTS ?? '{}') as Job;
  // Waits until the message has been handed to the IPC channel (receipts can be megabytes).
  const send = (message: unknown) =>
    new Promise<void>((resolve, reject) =>
      process.send!(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve())),
    );
  let connected = 0;
  const receipts: Array<Array<[number, number]>> = [];
  const finished: Array<Promise<void>> = [];
  const clients = [];
  for (let c = 0; c < job.clients; c += 1) {
    const client = createClient({
      url: `${job.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${job.token}` },
      retryAttempts: 0,
      lazy: true,
      on: { connected: () => (connected += 1) },
    });
    clients.push(client);
    const received: Array<[number, number]> = [];
    receipts.push(received);
    finished.push(
      new Promise<void>((resolve, reject) => {
        client.subscribe<{ auditEvents: { sequence: number } }>(
          { query: QUERY, variables: { tenantId: job.tenantId, afterSequence: job.afterSequence } },
          {
            next: (message) => {
              if (message.data) received.push([message.data.auditEvents.sequence, wallClock()]);
              if (received.length >= job.expected) resolve();
            },
            error: (error) =>
              reject(
                new Error(
                  `client ${c}: ${JSON.stringify(error) === '{}' ? String((error as { code?: number }).code) : JSON.stringify(error)}`,
                ),
              ),
            complete: () => resolve(),
          },
        );
      }),
    );
    // Do not open hundreds of sockets in one burst.
    if (c % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  while (connected < job.clients) await new Promise((resolve) => setTimeout(resolve, 20));
  const session = job.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  await send({ type: 'connected' });
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), job.timeoutMs).unref());
  const outcome = await Promise.race([Promise.all(finished).then(() => 'done' as const), timeout]);
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - startedAt)) * 100;
  const profile = session ? JSON.stringify((await session.post('Profiler.stop')).profile) : undefined;
  session?.disconnect();
  await Promise.all(clients.map((client) => client.dispose()));
  await send({ type: 'receipts', outcome, receipts, cpuPercent, profile });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.send?.({ type: 'failed', message: String(error) }, undefined, {}, () => process.exit(1));
  },
);
