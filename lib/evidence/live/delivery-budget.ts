/**
 * The bounded buffer of one client connection: how many events may wait for the client,
 * across all of the connection's streams. Live events that find it full mean the client
 * does not keep up (the stream is closed); catch-up reads wait for room instead.
 */
export class DeliveryBudget {
  private used = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('capacity must be a positive integer');
  }

  get room(): number {
    return Math.max(0, this.capacity - this.used);
  }

  /** Takes one place for a live event; false when the buffer is full. */
  tryTake(): boolean {
    if (this.used >= this.capacity) return false;
    this.used += 1;
    return true;
  }

  /** Takes places for events read on request (never more than `room` was, give or take live events). */
  take(count: number): void {
    this.used += count;
  }

  release(count: number): void {
    this.used = Math.max(0, this.used - count);
    if (this.waiters.length) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves when there are at least `places` free (at once when there are; at most the capacity). */
  async waitForRoom(places = 1): Promise<void> {
    const wanted = Math.min(Math.max(1, places), this.capacity);
    while (this.room < wanted) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}
