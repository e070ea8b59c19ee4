// Checks of the ledger benchmark besides throughput: a hot chain must not starve the other
// tenants, a burst on one chain is either served or refused (never failed), and a burst must
// not stall the event loop.
import type { Database } from '../../lib/db/database';
import { EcsError, ErrorCode } from '../../lib/errors';
import { appendOnce, appender, describeError, newTally, verifyCommitted, writeUntil } from './append-load';
import type { Append, Tally } from './append-load';
import { now, percentile } from './report';

export interface ColdTenantResult {
  alone: { events: number; p50: number; p95: number };
  underLoad: { events: number; p50: number; p95: number };
  hotWriters: number;
  hotEventsPerSecond: number;
  errors: string[];
}

/**
 * One sequential writer on a cold tenant for `seconds`, alone, then again while
 * `hotWriters` writers append to one hot tenant; every append in a transaction
 * (`evidenceTransaction`), as a governed change appends.
 */
export async function coldTenantCheck(db: Database, seconds: number, hotWriters = 64): Promise<ColdTenantResult> {
  const append = appender(db, 'in a transaction');
  const cold = 'bench-cold';
  const hot = 'bench-hot';
  const alone = newTally();
  const underLoad = newTally();
  const hotTally = newTally();
  for (const tenant of [cold, hot]) for (let i = 0; i < 2; i++) await appendOnce(append, tenant, alone, false);

  await writeUntil(now() + seconds * 1000, append, cold, alone);
  underLoad.committed.set(cold, alone.committed.get(cold) ?? 0);
  hotTally.committed.set(hot, alone.committed.get(hot) ?? 0);
  const started = now();
  const deadline = started + seconds * 1000;
  await Promise.all([
    writeUntil(deadline, append, cold, underLoad),
    ...Array.from({ length: hotWriters }, () => writeUntil(deadline, append, hot, hotTally)),
  ]);
  const hotSeconds = (now() - started) / 1000;

  const verification = [await verifyCommitted(db, [cold], underLoad, new Map()), await verifyCommitted(db, [hot], hotTally, new Map())];
  const stats = (tally: Tally) => {
    const sorted = [...tally.latencies].sort((a, b) => a - b);
    return { events: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
  };
  return {
    alone: stats(alone),
    underLoad: stats(underLoad),
    hotWriters,
    hotEventsPerSecond: hotTally.latencies.length / hotSeconds,
    errors: [...alone.errors, ...underLoad.errors, ...hotTally.errors, ...verification.flatMap((v) => v.failures)],
  };
}

export interface BurstResult {
  fired: number;
  succeeded: number;
  /** ECS_DEPENDENCY_UNAVAILABLE: the chain's queue was full (a 503). */
  refused: number;
  /** Any other failure (e.g. Prisma P2028): an error. */
  errors: string[];
  seconds: number;
  /** Longest time the event loop went without a tick of a 100 ms interval during the burst. */
  maxGapMs: number;
}

/** `fired` appends in a transaction on one tenant, all started at once. */
export async function burstCheck(db: Database, fired = 1024): Promise<BurstResult> {
  const append = appender(db, 'in a transaction');
  const tenant = 'bench-burst';
  const tally = newTally();
  await appendOnce(append, tenant, tally, false);
  let results: PromiseSettledResult<unknown>[] = [];
  const { seconds, maxGapMs } = await watchTicks(async () => {
    results = await Promise.allSettled(Array.from({ length: fired }, () => append(tenant)));
  });
  let refused = 0;
  const errors: string[] = [...tally.errors];
  for (const result of results) {
    if (result.status === 'fulfilled') tally.committed.set(tenant, (tally.committed.get(tenant) ?? 0) + 1);
    else if (result.reason instanceof EcsError && result.reason.code === ErrorCode.DependencyUnavailable) refused += 1;
    else errors.push(`${tenant}: ${describeError(result.reason)}`);
  }
  const { failures } = await verifyCommitted(db, [tenant], tally, new Map());
  const succeeded = results.filter((result) => result.status === 'fulfilled').length;
  return { fired, succeeded, refused, errors: [...errors, ...failures], seconds, maxGapMs };
}

export interface EventLoopResult {
  name: string;
  events: number;
  seconds: number;
  ticks: number;
  expectedTicks: number;
  maxGapMs: number;
  errors: string[];
}

const TICK_MS = 100;

/** Records the ticks of a `setInterval(TICK_MS)` while `work` runs. */
async function watchTicks(work: () => Promise<void>): Promise<{ seconds: number; ticks: number; maxGapMs: number }> {
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(now()), TICK_MS);
  const started = now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const ended = now();
  const points = [started, ...ticks, ended];
  const maxGapMs = Math.max(...points.slice(1).map((point, i) => point - points[i]!));
  return { seconds: (ended - started) / 1000, ticks: ticks.length, maxGapMs };
}

/**
 * `events` appends with `recordEvidence` fired at once over `tenants` tenants, then one
 * writer appending with `recordEvidence` one after the other without giving the event loop
 * a turn of its own (the plain sequential rate), each under a 100 ms interval timer.
 */
export async function eventLoopCheck(db: Database, seconds: number, events = 2000, tenants = 64): Promise<EventLoopResult[]> {
  const append: Append = appender(db, 'own statement');
  const names = Array.from({ length: tenants }, (_, t) => `bench-loop-t${String(t).padStart(2, '0')}`);
  const tally = newTally();
  for (const tenant of names) await appendOnce(append, tenant, tally, false);
  const burstErrors: string[] = [];
  let burstEvents = 0;
  const burst = await watchTicks(async () => {
    const results = await Promise.allSettled(Array.from({ length: events }, (_, i) => append(names[i % tenants]!)));
    for (const [i, result] of results.entries()) {
      const tenant = names[i % tenants]!;
      if (result.status === 'rejected') burstErrors.push(`${tenant}: ${describeError(result.reason)}`);
      else {
        burstEvents += 1;
        tally.committed.set(tenant, (tally.committed.get(tenant) ?? 0) + 1);
      }
    }
  });
  const burstCheck = await verifyCommitted(db, [names[0]!, names[tenants - 1]!], tally, new Map());

  const single = 'bench-sequential';
  const sequential = newTally();
  let sequentialEvents = 0;
  const loop = await watchTicks(async () => {
    const deadline = now() + seconds * 1000;
    while (now() < deadline && sequential.errors.length < 100) {
      try {
        await append(single);
        sequentialEvents += 1;
      } catch (error) {
        sequential.errors.push(`${single}: ${describeError(error)}`);
      }
    }
  });
  sequential.committed.set(single, sequentialEvents);
  const sequentialCheck = await verifyCommitted(db, [single], sequential, new Map());
  return [
    {
      name: `burst: ${events.toLocaleString('en-US')} fired at once over ${tenants} tenants`,
      events: burstEvents,
      ...burst,
      expectedTicks: Math.floor((burst.seconds * 1000) / TICK_MS),
      errors: [...tally.errors, ...burstErrors, ...burstCheck.failures],
    },
    {
      name: '1 writer, sequential (no yield)',
      events: sequentialEvents,
      ...loop,
      expectedTicks: Math.floor((loop.seconds * 1000) / TICK_MS),
      errors: [...sequential.errors, ...sequentialCheck.failures],
    },
  ];
}
