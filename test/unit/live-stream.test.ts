// The building blocks of the live audit stream, without a database: filters, the
// per-connection buffer, a subscriber's gap-free ordering between reads from the table and
// live events, its overflow rule, and close reasons.
import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import type { ObjectTypeDefinitionNode } from 'graphql';
import { closeReason } from '../../gateway/subscriptions/close-codes';
import { buildSubscriptionSchema } from '../../gateway/subscriptions/subscription-schema';
import { SUPERGRAPH_FILE } from '../../gateway/supergraph-file';
import { PrincipalConnections } from '../../gateway/subscriptions/principal-connections';
import { loadConfig } from '../../lib/config/config';
import type { EvidenceEvent } from '../../lib/evidence/evidence-event';
import type { StoredEvent } from '../../lib/evidence/stored-event';
import { DeliveryBudget } from '../../lib/evidence/live/delivery-budget';
import { eventMatcher, parseStreamFilter } from '../../lib/evidence/live/stream-filter';
import { StreamSubscriber } from '../../lib/evidence/live/stream-subscriber';

const CHAIN = 'ecs:tenant:acme';

function stored(sequence: number, eventType = 'workload.admit', chainId = CHAIN): StoredEvent {
  const envelope = {
    chain_id: chainId,
    sequence,
    event_type: eventType,
    outcome: 'accepted',
    tenant_id: 'acme',
  } as unknown as EvidenceEvent;
  return { envelope, details: {}, canonical: JSON.stringify(envelope) };
}

/** A chain in memory whose reads can be held open, to interleave live events with them. */
function memoryChain(length: number) {
  const events = Array.from({ length }, (_, i) => stored(i + 1));
  const pending: Array<() => void> = [];
  let hold = false;
  return {
    events,
    append(count: number): StoredEvent[] {
      const added = Array.from({ length: count }, (_, i) => stored(events.length + i + 1));
      events.push(...added);
      return added;
    },
    holdReads(on: boolean) {
      hold = on;
      if (!on) for (const release of pending.splice(0)) release();
    },
    reads: 0,
    readAfter(this: { reads: number }, _chainId: string, after: number, limit: number): Promise<StoredEvent[]> {
      this.reads += 1;
      const answer = () => events.filter((event) => event.envelope.sequence > after).slice(0, limit);
      if (!hold) return Promise.resolve(answer());
      // The statement's snapshot is taken now; the answer arrives later.
      const snapshot = answer();
      return new Promise((resolve) => pending.push(() => resolve(snapshot)));
    },
  };
}

function subscriberOf(
  chain: ReturnType<typeof memoryChain>,
  position: number,
  options: { capacity?: number; accepts?: (event: EvidenceEvent) => boolean } = {},
) {
  const overflows: number[] = [];
  const budget = new DeliveryBudget(options.capacity ?? 1000);
  const subscriber = new StreamSubscriber(new Map([[CHAIN, position]]), {
    accepts: options.accepts ?? (() => true),
    budget,
    readAfter: (chainId, after, limit) => chain.readAfter(chainId, after, limit),
    batchSize: 25,
    onOverflow: () => overflows.push(1),
    onEnd: () => undefined,
  });
  return { subscriber, overflows, budget };
}

async function take(subscriber: StreamSubscriber, count: number): Promise<number[]> {
  const sequences: number[] = [];
  while (sequences.length < count) {
    const result = await subscriber.next();
    if (result.done) break;
    sequences.push(result.value.envelope.sequence);
  }
  return sequences;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('stream filters', () => {
  it('match exact types, families and outcomes', () => {
    const match = eventMatcher(parseStreamFilter({ eventTypes: ['tenant.*', 'workload.admit'], outcomes: ['accepted', 'refused'] }));
    expect(match({ event_type: 'tenant.create', outcome: 'accepted' })).toBe(true);
    expect(match({ event_type: 'workload.admit', outcome: 'refused' })).toBe(true);
    expect(match({ event_type: 'workload.refuse', outcome: 'refused' })).toBe(false);
    expect(match({ event_type: 'tenantx.create', outcome: 'accepted' })).toBe(false);
    expect(match({ event_type: 'tenant.create', outcome: 'failed' })).toBe(false);
    expect(eventMatcher({})({ event_type: 'anything', outcome: 'failed' })).toBe(true);
  });

  it('refuse malformed filters naming the field', () => {
    expect(() => parseStreamFilter({ eventTypes: ['*'] })).toThrow(/eventTypes\.0/);
    expect(() => parseStreamFilter({ eventTypes: [] })).toThrow(/eventTypes/);
    expect(() => parseStreamFilter({ outcomes: ['maybe'] })).toThrow(/outcomes\.0/);
    expect(() => parseStreamFilter({ tenantId: 'x'.repeat(64) })).toThrow(/tenantId/);
  });
});

describe('a stream subscriber', () => {
  it("replays from its position in batches that fit its buffer, at the reader's pace", async () => {
    const chain = memoryChain(300);
    const { subscriber, overflows } = subscriberOf(chain, 0, { capacity: 10 });
    subscriber.catchUp(CHAIN);
    expect(await take(subscriber, 300)).toEqual(range(1, 300));
    expect(overflows).toEqual([]);
  });

  it('delivers every event once and in order when live events arrive during a read', async () => {
    const chain = memoryChain(40);
    const { subscriber } = subscriberOf(chain, 10);
    chain.holdReads(true);
    subscriber.catchUp(CHAIN);
    // Committed after the read's snapshot: offered live while the read is still pending,
    // some twice (a notification and the periodic check), one out of order.
    const added = chain.append(5);
    for (const event of [added[0]!, added[1]!, added[1]!, added[3]!, added[2]!, added[4]!]) subscriber.offer(event);
    chain.holdReads(false);
    expect(await take(subscriber, 35)).toEqual(range(11, 45));
    const late = chain.append(2);
    for (const event of late) subscriber.offer(event);
    expect(await take(subscriber, 2)).toEqual([46, 47]);
  });

  it('reads the table when a live event shows a gap (a lost notification)', async () => {
    const chain = memoryChain(5);
    const { subscriber } = subscriberOf(chain, 5);
    const added = chain.append(4);
    subscriber.offer(added[3]!);
    expect(await take(subscriber, 4)).toEqual([6, 7, 8, 9]);
    chain.append(1);
    subscriber.noteHead(CHAIN, 10);
    expect(await take(subscriber, 1)).toEqual([10]);
  });

  it('moves past events it does not deliver', async () => {
    const chain = memoryChain(0);
    const { subscriber } = subscriberOf(chain, 0, { accepts: (event) => event.sequence % 2 === 0 });
    for (const event of chain.append(6)) subscriber.offer(event);
    expect(await take(subscriber, 3)).toEqual([2, 4, 6]);
  });

  it('overflows once when live events find the buffer full, and frees its buffer', async () => {
    const chain = memoryChain(0);
    const { subscriber, overflows, budget } = subscriberOf(chain, 0, { capacity: 3 });
    for (const event of chain.append(5)) subscriber.offer(event);
    expect(overflows).toEqual([1]);
    expect(await subscriber.next()).toEqual({ value: undefined, done: true });
    expect(budget.room).toBe(3);
  });

  it('shares one buffer between the streams of a connection', async () => {
    const chain = memoryChain(0);
    const budget = new DeliveryBudget(4);
    const make = () =>
      new StreamSubscriber(new Map([[CHAIN, 0]]), {
        accepts: () => true,
        budget,
        readAfter: (chainId, after, limit) => chain.readAfter(chainId, after, limit),
        batchSize: 25,
        onOverflow: () => undefined,
        onEnd: () => undefined,
      });
    const [one, two] = [make(), make()];
    const added = chain.append(3);
    for (const event of added.slice(0, 2)) {
      one.offer(event);
      two.offer(event);
    }
    expect(budget.room).toBe(0);
    await one.next();
    expect(budget.room).toBe(1);
    await two.return();
    expect(budget.room).toBe(3);
  });
});

describe('limits and close reasons', () => {
  it('count connections per principal', () => {
    const connections = new PrincipalConnections(2);
    const caller = { subject: 'alice', roles: ['auditor' as const], authMethod: 'oidc' as const, issuer: 'https://idp' };
    const first = connections.acquire(caller)!;
    expect(connections.acquire(caller)).toBeDefined();
    expect(connections.acquire(caller)).toBeUndefined();
    expect(connections.acquire({ ...caller, subject: 'bob' })).toBeDefined();
    first();
    first();
    expect(connections.acquire(caller)).toBeDefined();
    expect(connections.acquire(caller)).toBeUndefined();
  });

  it('keep close reasons within 123 bytes', () => {
    expect(closeReason('ECS_FORBIDDEN', { message: 'no', evidencePointer: `eosc://evidence/sha256:${'a'.repeat(64)}` })).toBe(
      `ECS_FORBIDDEN eosc://evidence/sha256:${'a'.repeat(64)}`,
    );
    const long = closeReason('ECS_SLOW_CONSUMER', { message: 'é'.repeat(200) });
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(123);
    expect(long.startsWith('ECS_SLOW_CONSUMER: é')).toBe(true);
  });

  it('read their settings from the environment', () => {
    expect(loadConfig({}).subscriptions).toEqual({
      bufferEvents: 1000,
      connectionsPerPrincipal: 20,
      perConnection: 25,
      keepAliveMs: 12_000,
      pollIntervalMs: 5000,
    });
    expect(() => loadConfig({ SUBSCRIPTION_BUFFER: '0' })).toThrow(/^SUBSCRIPTION_BUFFER: /);
    expect(() => loadConfig({ SUBSCRIPTION_KEEPALIVE_MS: 'often' })).toThrow(/^SUBSCRIPTION_KEEPALIVE_MS: /);
  });
});

describe('the subscription schema', () => {
  it("delivers the public EvidenceEvent type: the fields of the supergraph's", () => {
    const schema = buildSubscriptionSchema(() => undefined);
    const supergraph = parse(readFileSync(SUPERGRAPH_FILE, 'utf8'));
    const event = supergraph.definitions.find(
      (definition): definition is ObjectTypeDefinitionNode =>
        definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'EvidenceEvent',
    )!;
    const subscribed = schema.getType('EvidenceEvent') as unknown as { getFields(): Record<string, unknown> };
    expect(Object.keys(subscribed.getFields()).sort()).toEqual(event.fields!.map((field) => field.name.value).sort());
    expect(
      schema
        .getSubscriptionType()
        ?.getFields()
        .auditEvents?.args.map((arg) => arg.name),
    ).toEqual(['tenantId', 'eventTypes', 'outcomes', 'afterSequence']);
  });
});
