/**
 * Combines the work of independent callers into shared runs: what callers hand in while
 * `maxRunning` runs are under way waits, and the next run takes all of it (up to `maxItems`
 * items). The ledger uses it to append the events of different chains in one statement:
 * one round trip and one commit for all of them instead of one each.
 *
 * A run gets the submissions sorted by their key (stable within a key), so that two runs
 * anywhere take the chain-head locks of their chains in one order. A combined run that
 * fails is retried once per submission, alone, so one caller's failure is never another's.
 */
export class CombinedRuns<I, O> {
  private readonly waiting: Array<Submission<I, O>> = [];
  private running = 0;

  /**
   * @param run runs items together and answers one output per item, in order
   * @param keyOf the sort key of a submission's items (its chain)
   * @param maxRunning runs under way at once
   * @param maxItems items per run (a larger submission runs alone)
   */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly keyOf: (items: I[]) => string,
    private readonly maxRunning: number,
    private readonly maxItems: number,
  ) {
    if (!Number.isInteger(maxRunning) || maxRunning < 1) throw new RangeError('maxRunning must be a positive integer');
    if (!Number.isInteger(maxItems) || maxItems < 1) throw new RangeError('maxItems must be a positive integer');
  }

  /** Runs `items` in a combined run; resolves with their outputs, in order. */
  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.waiting.push({ items, key: this.keyOf(items), resolve, reject });
      if (this.running < this.maxRunning) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running += 1;
    try {
      while (this.waiting.length > 0) await this.runCombined(this.takeBatch());
    } finally {
      this.running -= 1;
    }
  }

  private takeBatch(): Array<Submission<I, O>> {
    const batch: Array<Submission<I, O>> = [];
    let items = 0;
    while (this.waiting.length > 0 && (batch.length === 0 || items + this.waiting[0]!.items.length <= this.maxItems)) {
      const submission = this.waiting.shift()!;
      batch.push(submission);
      items += submission.items.length;
    }
    return batch.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async runCombined(batch: Array<Submission<I, O>>): Promise<void> {
    let outputs: O[];
    try {
      outputs = await this.run(batch.flatMap((submission) => submission.items));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const submission of batch) {
        await this.run(submission.items).then(submission.resolve, submission.reject);
      }
      return;
    }
    let at = 0;
    for (const submission of batch) {
      submission.resolve(outputs.slice(at, at + submission.items.length));
      at += submission.items.length;
    }
  }
}

interface Submission<I, O> {
  items: I[];
  key: string;
  resolve: (outputs: O[]) => void;
  reject: (error: unknown) => void;
}
