// Resume without loss: replay from `afterSequence` then live with no gap and no duplicate
// while a writer commits, nothing from a rolled-back transaction, the 4401 close when the
// token expires and the 4413 close of a slow consumer, each followed by a resume.
import { appendEvidence, evidenceTransaction } from '../../lib/evidence/ledger';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { commitEvents, liveClient, openedSockets, range, settle, subscribe, subscriptionsOpen, testEvent } from '../support/live-events';
import type { CloseEventLike, LiveEvent } from '../support/live-events';

const BUFFER = 200;
const BIG_EVENTS = `subscription($tenantId: ID, $afterSequence: Int) {
  auditEvents(tenantId: $tenantId, afterSequence: $afterSequence) { id sequence eventType tenantId outcome chainId eventHash prevHash evidencePointer correlationId occurredAt actor details canonical }
}`;

describe('resuming live audit subscriptions', () => {
  let env: TestStack;
  const clients: Array<{ dispose(): void | Promise<void> }> = [];
  const client = (token: string) => {
    const created = liveClient(env.url, { token });
    clients.push(created);
    return created;
  };
  const sequences = (events: LiveEvent[]) => events.map((event) => event.sequence);

  beforeAll(async () => {
    // Pings every minute: the paused client of the slow-consumer case would not answer them.
    env = await startTestStack({
      env: { SUBSCRIPTION_BUFFER: String(BUFFER), SUBSCRIPTION_POLL_MS: '1000', SUBSCRIPTION_KEEPALIVE_MS: '60000' },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((created) => created.dispose()));
    // Gone from the gateway too: a test's wait for its own subscriptions counts only its own.
    await subscriptionsOpen(env.stack.gateway.stream, 0);
  });
  afterAll(() => env.stop());

  it('checklist 26: replays after afterSequence and continues live with no gap and no duplicate while a writer commits', async () => {
    const tenant = uniqueId('resume');
    const token = await env.token('auditor', tenant);
    const total = 400;
    const live = subscribe(client(token));
    await subscriptionsOpen(env.stack.gateway.stream, 1);
    let committed = 0;
    const writer = (async () => {
      for (; committed < total; committed += 1) {
        await evidenceTransaction(env.stack.services.db, tenant, (tx) => appendEvidence(tx, testEvent(tenant, committed)));
        if (committed % 10 === 0) await settle(1);
      }
    })();
    // Subscribers join at different points of the writing: from the start, from where the
    // writer is, from a little behind it, and live from now.
    const joined: Array<{ from: number; sub: ReturnType<typeof subscribe> }> = [];
    for (const at of [40, 120, 200, 280]) {
      while (committed < at) await settle(5);
      joined.push({ from: 0, sub: subscribe(client(token), { afterSequence: 0 }) });
      joined.push({ from: committed, sub: subscribe(client(token), { afterSequence: committed }) });
      joined.push({ from: Math.max(0, committed - 7), sub: subscribe(client(token), { afterSequence: Math.max(0, committed - 7) }) });
    }
    await writer;
    for (const { from, sub } of joined) {
      expect(sequences(await sub.next(total - from, 30_000))).toEqual(range(from + 1, total));
    }
    expect(sequences(await live.next(total))).toEqual(range(1, total));
    // A marker after the writer's last event: once it arrives, a duplicate of anything before it
    // would have arrived too, however slow delivery is.
    await commitEvents(env.stack.services.db, tenant, 1, { eventType: 'tenant.update' });
    for (const { from, sub } of [...joined, { from: 0, sub: live }]) {
      await sub.next(total - from + 1, 30_000);
      expect({ from, received: sequences(sub.events) }).toEqual({ from, received: range(from + 1, total + 1) });
    }
    // Each delivered event is the stored one: the chain links up.
    const all = joined[0]!.sub.events;
    for (let i = 1; i < all.length; i += 1) expect(all[i]!.prevHash).toBe(all[i - 1]!.eventHash);
  });

  it('delivers nothing from a transaction that rolls back', async () => {
    const tenant = uniqueId('rollback');
    const { db } = env.stack.services;
    await commitEvents(db, tenant, 2);
    const sub = subscribe(client(await env.token('auditor', tenant)));
    await subscriptionsOpen(env.stack.gateway.stream, 1);
    await expect(
      evidenceTransaction(db, tenant, async (tx) => {
        await appendEvidence(tx, testEvent(tenant, 100, { eventType: 'workload.admit' }));
        await appendEvidence(tx, testEvent(tenant, 101, { eventType: 'workload.terminate' }));
        throw new Error('the action fails after its evidence was appended');
      }),
    ).rejects.toThrow('the action fails');
    // The next committed events take sequences 3 and 4, where the rolled-back ones were: the
    // stream delivers in chain order, so anything of the rollback would come first.
    await commitEvents(db, tenant, 2, { eventType: 'tenant.update' });
    await sub.next(2);
    const stored = await db.prisma.evidenceEvent.findMany({ where: { tenantId: tenant }, orderBy: { sequence: 'asc' } });
    expect(stored.map((row) => row.eventType)).toEqual(['workload.admit', 'workload.admit', 'tenant.update', 'tenant.update']);
    expect(sub.events.map((event) => [event.sequence, event.eventType, event.eventHash])).toEqual(
      stored.slice(2).map((row) => [row.sequence, row.eventType, row.eventHash]),
    );
  });

  it('checklist 23: closes with 4401 when the token expires; a fresh token resumes from the last sequence', async () => {
    const tenant = uniqueId('expiry');
    const { db } = env.stack.services;
    const sub = subscribe(client(await env.token('auditor', tenant, { ttlSeconds: 2 })));
    await subscriptionsOpen(env.stack.gateway.stream, 1);
    await commitEvents(db, tenant, 5);
    await sub.next(5);
    const ended = (await sub.ended) as CloseEventLike;
    expect(ended.code).toBe(4401);
    expect(ended.reason).toMatch(/^ECS_UNAUTHENTICATED: credentials expired/);
    await commitEvents(db, tenant, 4);
    const last = sub.events[sub.events.length - 1]!.sequence;
    const resumed = subscribe(client(await env.token('auditor', tenant)), { afterSequence: last });
    expect(sequences(await resumed.next(4))).toEqual([6, 7, 8, 9]);
  });

  it('checklist 27: closes a slow consumer with 4413 without holding back others; it resumes with nothing lost', async () => {
    const tenant = uniqueId('slow');
    const { db } = env.stack.services;
    const token = await env.token('auditor', tenant);
    const slow = subscribe(client(token), {}, BIG_EVENTS);
    const fast = subscribe(client(token), {}, BIG_EVENTS);
    await subscriptionsOpen(env.stack.gateway.stream, 2);
    await commitEvents(db, tenant, 1);
    await slow.next(1);
    await fast.next(1);
    // The slow client stops reading its socket: the kernel buffers fill, then the server's.
    const slowSocket = openedSockets[openedSockets.length - 2]!;
    slowSocket.pause();
    const streamsBefore = env.stack.gateway.stream.size;
    let committed = 1;
    while (env.stack.gateway.stream.size === streamsBefore && committed < 5000) {
      // Large events (about 64 KB a message) fill the socket buffers in a few hundred.
      await commitEvents(db, tenant, 20, { perTransaction: 10, padding: 32_000 });
      committed += 20;
      await settle(20);
    }
    expect(env.stack.gateway.stream.size).toBe(streamsBefore - 1);
    expect(sequences(await fast.next(committed, 30_000))).toEqual(range(1, committed));
    slowSocket.resume();
    const ended = (await slow.ended) as CloseEventLike;
    expect(ended.code).toBe(4413);
    expect(ended.reason).toMatch(/^ECS_SLOW_CONSUMER/);
    const received = sequences(slow.events);
    expect(received).toEqual(range(1, received.length));
    expect(received.length).toBeLessThan(committed);
    const resumed = subscribe(client(token), { afterSequence: received.length }, BIG_EVENTS);
    expect(sequences(await resumed.next(committed - received.length, 30_000))).toEqual(range(received.length + 1, committed));
  });
});
