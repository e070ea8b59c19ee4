import type { ExecutionResult } from 'graphql';
import { nextFrame, nextFramePrefix } from './next-message';

export type ExecutionOutcome = ExecutionResult | Promise<ExecutionResult>;

/** How a subscription turns one source event into its result and its `next` payload text. */
export interface EventExecution {
  resultOf(event: unknown): ExecutionOutcome;
  payloadOf(event: unknown): Buffer | Promise<Buffer>;
}

/** What a subscription needs of the websocket (a `ws` WebSocket has it). */
export interface FrameSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes written but not yet handed to the kernel. */
  readonly bufferedAmount: number;
  send(data: Buffer, options: { binary: boolean }, written: (error?: Error) => void): void;
}

/** A source that hands events over synchronously (StreamSubscriber). */
interface PushSource extends AsyncIterator<unknown> {
  deliverTo(ready: () => void): void;
  take(): unknown;
  readonly hasEnded: boolean;
}

const isPushSource = (source: AsyncIterator<unknown>): source is PushSource =>
  typeof (source as Partial<PushSource>).deliverTo === 'function' && typeof (source as Partial<PushSource>).take === 'function';

/**
 * While the socket holds more than this many bytes the kernel has not taken, events wait in
 * the source's queue (counted against the connection's buffer) instead of becoming frames:
 * a client that stops reading fills that buffer and is closed as a slow consumer, as when
 * graphql-ws wrote one message at a time.
 */
const SOCKET_BACKLOG_BYTES = 16 * 1024;

/** The frames are Buffers but graphql-ws messages are text frames. */
const TEXT = { binary: false } as const;

/**
 * A subscription's results for graphql-ws. Iterated by graphql-ws, each event would cost
 * every subscriber a chain of promises and its own `JSON.stringify` of the message. Once
 * the server's `onOperation` has called `writeTo` with the socket and the subscription's
 * id, each event's `next` message is instead written to the socket in the same turn as the
 * event is offered: the payload text shared by every subscriber of the same request, behind
 * this subscription's id. graphql-ws's iteration then only learns how the stream ended,
 * after the last message, and sends `complete` or `error` as before.
 */
export class DirectSubscription implements AsyncIterableIterator<ExecutionResult> {
  private writer: FrameWriter | undefined;
  private pulled = false;

  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly execution: EventExecution,
  ) {}

  /** Writes the frames of subscription `id` straight to `socket`; false when the source cannot (it is then iterated). */
  writeTo(socket: FrameSocket, id: string): boolean {
    if (this.writer || this.pulled || !isPushSource(this.source)) return false;
    this.writer = new FrameWriter(this.source, this.execution, socket, nextFramePrefix(id));
    return true;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.writer) {
      const { failure } = await this.writer.finished;
      if (failure !== undefined) throw failure;
    } else {
      this.pulled = true;
    }
    // Written directly: the source has ended with nothing queued, and says how it ended.
    const step = await this.source.next();
    return step.done ? { done: true, value: undefined } : { done: false, value: await this.execution.resultOf(step.value) };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.(undefined);
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.(undefined);
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Takes a push source's events as they are queued and writes their frames, in order, while the socket keeps up. */
class FrameWriter {
  /**
   * Resolves when the source has ended and every event it queued has been written (or
   * dropped on a closed socket), with the error when an execution failed and ended it.
   */
  readonly finished: Promise<{ failure?: unknown }>;
  private resolveFinished!: (outcome: { failure?: unknown }) => void;
  private failure: unknown;
  /** A frame whose payload is still being executed: later events wait behind it. */
  private waiting = false;

  constructor(
    private readonly source: PushSource,
    private readonly execution: EventExecution,
    private readonly socket: FrameSocket,
    private readonly prefix: Buffer,
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    source.deliverTo(this.drain);
  }

  /** Called when events are queued, when the stream ends and when the socket has taken a frame. */
  private readonly drain = (): void => {
    const { socket, source } = this;
    while (!this.waiting && (socket.readyState !== socket.OPEN || socket.bufferedAmount < SOCKET_BACKLOG_BYTES)) {
      const event = source.take();
      if (event === undefined) {
        if (source.hasEnded) this.resolveFinished({ failure: this.failure });
        return;
      }
      // A closing connection gets nothing more; its stream is ended with it.
      if (socket.readyState !== socket.OPEN) continue;
      const payload = this.execution.payloadOf(event);
      if (payload instanceof Promise) {
        this.waiting = true;
        payload.then(
          (text) => this.write(text),
          (error: unknown) => this.fail(error),
        );
        return;
      }
      socket.send(nextFrame(this.prefix, payload), TEXT, this.drain);
    }
  };

  /** The payload of the event waited for has been executed. */
  private write(payload: Buffer): void {
    this.waiting = false;
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(nextFrame(this.prefix, payload), TEXT, this.drain);
    else this.drain();
  }

  /** An execution failed: the stream ends with its error (graphql-ws sends it as an `error` message). */
  private fail(error: unknown): void {
    this.failure = error;
    this.waiting = false;
    void this.source.return?.(undefined);
    this.drain();
  }
}
