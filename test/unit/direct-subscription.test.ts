// A subscription that writes its `next` messages straight to the socket: in order, only
// while the socket keeps up (events otherwise wait in the connection's buffer and a client
// that stops reading still overflows it), and ending only after its last message.
import type { EvidenceEvent } from '../../lib/evidence/evidence-event';
import type { StoredEvent } from '../../lib/evidence/stored-event';
import { DeliveryBudget } from '../../lib/evidence/live/delivery-budget';
import { StreamSubscriber } from '../../lib/evidence/live/stream-subscriber';
import { DirectSubscription } from '../../gateway/subscriptions/direct-subscription';
import type { EventExecution, FrameSocket } from '../../gateway/subscriptions/direct-subscription';

const CHAIN = 'ecs:tenant:acme';

function stored(sequence: number): StoredEvent {
  const envelope = {
    chain_id: CHAIN,
    sequence,
    event_type: 'workload.admit',
    outcome: 'accepted',
    tenant_id: 'acme',
  } as unknown as EvidenceEvent;
  return { envelope, details: {}, canonical: JSON.stringify(envelope) };
}

/** A socket that takes `kernelTakes` frames at once and keeps the rest buffered until `flush()`. */
class FakeSocket implements FrameSocket {
  readonly OPEN = 1;
  readyState = 1;
  kernelTakes = Number.POSITIVE_INFINITY;
  readonly written: string[] = [];
  private readonly pending: Array<{ bytes: number; done: (error?: Error) => void }> = [];

  get bufferedAmount(): number {
    return this.pending.reduce((sum, write) => sum + write.bytes, 0);
  }

  send(data: Buffer, options: { binary: boolean }, written: (error?: Error) => void): void {
    expect(options.binary).toBe(false);
    this.written.push(data.toString('utf8'));
    if (this.kernelTakes > 0) {
      this.kernelTakes -= 1;
      process.nextTick(written);
    } else {
      this.pending.push({ bytes: data.length, done: written });
    }
  }

  /** The client reads again: every buffered frame is handed to the kernel. */
  flush(): void {
    this.kernelTakes = Number.POSITIVE_INFINITY;
    for (const write of this.pending.splice(0)) write.done();
  }

  sequences(): number[] {
    return this.written.map((text) => (JSON.parse(text) as { payload: { data: { sequence: number } } }).payload.data.sequence);
  }
}

function setUp(options: { capacity?: number; later?: (sequence: number) => Promise<Buffer> | undefined } = {}) {
  const overflows: number[] = [];
  const budget = new DeliveryBudget(options.capacity ?? 10);
  const source = new StreamSubscriber(new Map([[CHAIN, 0]]), {
    accepts: () => true,
    budget,
    readAfter: async () => [],
    batchSize: 25,
    onOverflow: () => overflows.push(1),
    onEnd: () => undefined,
  });
  const execution: EventExecution = {
    resultOf: (event) => ({ data: { sequence: (event as StoredEvent).envelope.sequence } }),
    payloadOf: (event) => {
      const { sequence } = (event as StoredEvent).envelope;
      return options.later?.(sequence) ?? payload(sequence);
    },
  };
  const subscription = new DirectSubscription(source, execution);
  const socket = new FakeSocket();
  const offer = (...sequences: number[]) => {
    for (const sequence of sequences) source.offer(stored(sequence));
  };
  return { source, budget, overflows, subscription, socket, offer };
}

/** About 9 KB: two frames fill the socket's backlog of 16 KiB. */
const payload = (sequence: number) => Buffer.from(JSON.stringify({ data: { sequence, padding: 'x'.repeat(9000) } }));
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('a subscription writing its frames to the socket', () => {
  it('writes each offered event at once, in order, behind its id, and ends after the last frame', async () => {
    // The execution of event 3 finishes later: 4 and 5 wait behind it.
    const later = (sequence: number) =>
      sequence === 3 ? new Promise<Buffer>((resolve) => setTimeout(() => resolve(payload(3)), 5)) : undefined;
    const { source, subscription, socket, offer } = setUp({ later });
    offer(1);
    expect(subscription.writeTo(socket, 'sub-1')).toBe(true);
    // Queued before the socket was known: written now.
    expect(socket.sequences()).toEqual([1]);
    offer(2);
    expect(socket.sequences()).toEqual([1, 2]);
    offer(3, 4, 5);
    expect(socket.sequences()).toEqual([1, 2]);
    await settle();
    expect(socket.sequences()).toEqual([1, 2, 3, 4, 5]);
    expect(socket.written.every((text) => text.startsWith('{"id":"sub-1","type":"next","payload":{"data":'))).toBe(true);
    const ended = subscription.next();
    await source.return();
    expect(await ended).toEqual({ done: true, value: undefined });
  });

  it('lets events wait in the buffer while the socket is backed up, and overflows a client that stopped reading', async () => {
    const { source, subscription, socket, budget, overflows, offer } = setUp({ capacity: 4 });
    subscription.writeTo(socket, 'slow');
    socket.kernelTakes = 0;
    offer(1, 2, 3, 4);
    expect(socket.sequences()).toEqual([1, 2]);
    expect(budget.room).toBe(2);
    socket.flush();
    expect(socket.sequences()).toEqual([1, 2, 3, 4]);
    expect(budget.room).toBe(4);
    socket.kernelTakes = 0;
    offer(5, 6, 7, 8, 9, 10);
    expect(overflows).toEqual([]);
    offer(11);
    expect(overflows).toEqual([1]);
    expect(source.hasEnded).toBe(true);
    expect(socket.sequences()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('ends with the error after the frames queued before it', async () => {
    const { source, subscription, socket, offer } = setUp();
    subscription.writeTo(socket, 'failing');
    socket.kernelTakes = 0;
    offer(1, 2, 3, 4);
    source.fail(new Error('shutting down'));
    const ended = subscription.next();
    await settle();
    expect(socket.sequences()).toEqual([1, 2]);
    socket.flush();
    await expect(ended).rejects.toThrow('shutting down');
    expect(socket.sequences()).toEqual([1, 2, 3, 4]);
  });

  it('ends with the error of an execution that failed, writing nothing after it', async () => {
    const later = (sequence: number) => (sequence === 2 ? Promise.reject(new Error('execution failed')) : undefined);
    const { source, subscription, socket, offer } = setUp({ later });
    subscription.writeTo(socket, 'broken');
    offer(1, 2, 3);
    await expect(subscription.next()).rejects.toThrow('execution failed');
    expect(socket.sequences()).toEqual([1]);
    expect(source.hasEnded).toBe(true);
  });

  it('is iterated as results when nobody gives it a socket', async () => {
    const { subscription, offer } = setUp();
    offer(1);
    expect(await subscription.next()).toEqual({ done: false, value: { data: { sequence: 1 } } });
    expect(subscription.writeTo(new FakeSocket(), 'late')).toBe(false);
  });
});
