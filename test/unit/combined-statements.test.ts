import { CombinedRuns } from '../../lib/evidence/combined-statements';

interface Item {
  chain: string;
  n: number;
}

/** A run that records what it was given and answers once `release` is called. */
function recordingRuns(maxRunning: number, maxItems: number, fail: (items: Item[]) => boolean = () => false) {
  const runs: Item[][] = [];
  const pending: Array<() => void> = [];
  const combined = new CombinedRuns<Item, string>(
    async (items) => {
      runs.push(items);
      await new Promise<void>((resolve) => pending.push(resolve));
      if (fail(items)) throw new Error(`refused ${items.map((item) => `${item.chain}${item.n}`).join(',')}`);
      return items.map((item) => `${item.chain}${item.n}`);
    },
    (items) => items[0]!.chain,
    maxRunning,
    maxItems,
  );
  const releaseAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { combined, runs, pending, releaseAll };
}

const items = (chain: string, ...ns: number[]): Item[] => ns.map((n) => ({ chain, n }));

describe('CombinedRuns', () => {
  it('what arrives while the runs are under way goes in the next run, sorted by key, and each caller gets its own outputs', async () => {
    const { combined, runs, releaseAll } = recordingRuns(1, 100);
    const first = combined.submit(items('m', 1));
    const later = [combined.submit(items('z', 1, 2)), combined.submit(items('a', 1)), combined.submit(items('m', 2))];
    expect(runs).toHaveLength(1);
    await releaseAll();
    await expect(first).resolves.toEqual(['m1']);
    await expect(Promise.all(later)).resolves.toEqual([['z1', 'z2'], ['a1'], ['m2']]);
    expect(runs.map((run) => run.map((item) => `${item.chain}${item.n}`))).toEqual([['m1'], ['a1', 'm2', 'z1', 'z2']]);
  });

  it('runs at most maxRunning at once and at most maxItems items per run (a larger submission alone)', async () => {
    const { combined, runs, pending, releaseAll } = recordingRuns(2, 3);
    const all = [
      combined.submit(items('a', 1)),
      combined.submit(items('b', 1)),
      combined.submit(items('c', 1, 2)),
      combined.submit(items('d', 1, 2)),
      combined.submit(items('e', 1, 2, 3, 4)),
    ];
    expect(runs).toHaveLength(2);
    expect(pending).toHaveLength(2);
    await releaseAll();
    await Promise.all(all);
    expect(runs.map((run) => run.map((item) => item.chain).join(''))).toEqual(['a', 'b', 'cc', 'dd', 'eeee']);
  });

  it('a combined run that fails is retried once per submission alone: only the failing caller sees the error', async () => {
    const { combined, runs, releaseAll } = recordingRuns(1, 100, (run) => run.some((item) => item.chain === 'bad'));
    const first = combined.submit(items('x', 0));
    const good = combined.submit(items('g', 1, 2));
    const bad = combined.submit(items('bad', 1));
    bad.catch(() => undefined); // asserted below, after it settles
    const other = combined.submit(items('o', 1));
    await releaseAll();
    await expect(first).resolves.toEqual(['x0']);
    await expect(good).resolves.toEqual(['g1', 'g2']);
    await expect(other).resolves.toEqual(['o1']);
    await expect(bad).rejects.toThrow('refused bad1');
    expect(runs.map((run) => run.map((item) => item.chain).join(','))).toEqual(['x', 'bad,g,g,o', 'bad', 'g,g', 'o']);
  });

  it('refuses nonsensical bounds and answers an empty submission at once', async () => {
    for (const [maxRunning, maxItems] of [
      [0, 1],
      [1, 0],
      [1.5, 1],
    ] as const) {
      expect(
        () =>
          new CombinedRuns<Item, string>(
            async () => [],
            () => '',
            maxRunning,
            maxItems,
          ),
      ).toThrow(RangeError);
    }
    const { combined, runs } = recordingRuns(1, 1);
    await expect(combined.submit([])).resolves.toEqual([]);
    expect(runs).toHaveLength(0);
  });
});
