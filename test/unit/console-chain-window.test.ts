import { CHART_MINUTES, ChainWindow, SHOWN_ROWS } from '../../web/console/chain-window';
import { describeFailure } from '../../web/console/failure-text';
import type { CheckedEvent } from '../../web/console/event-check';

const NOW = Date.UTC(2026, 11, 8, 12, 0, 30);

function checked(sequence: number, overrides: Partial<CheckedEvent['event']> = {}, problems: string[] = []): CheckedEvent {
  return {
    event: {
      sequence,
      eventType: sequence % 2 ? 'object.get' : 'workload.admit',
      outcome: sequence % 10 === 0 ? 'refused' : 'accepted',
      actor: 'alice',
      occurredAt: new Date(NOW).toISOString(),
      eventHash: `sha256:${String(sequence).padStart(64, '0')}`,
      prevHash: null,
      refusalReasonCode: null,
      refusalReason: null,
      canonical: 'x'.repeat(1000),
      ...overrides,
    },
    problems,
  };
}

const ALL = { eventType: '', outcome: '' };

describe("the console's chain window", () => {
  it('keeps the newest events of a long chain without their text, newest first, and counts every event', () => {
    const chain = new ChainWindow(100, () => NOW);
    for (let sequence = 1; sequence <= 1_050; sequence += 1) chain.add(checked(sequence));
    expect(chain.total).toBe(1_050);
    expect(chain.broken).toBe(0);
    expect(chain.keptCount).toBe(100);
    const { rows, matching } = chain.rows(ALL, 30);
    expect(matching).toBe(100);
    expect(rows.map((row) => row.event.sequence)).toEqual(Array.from({ length: 30 }, (_, index) => 1_050 - index));
    expect(rows.every((row) => !('canonical' in row.event))).toBe(true);
  });

  it('filters the kept events by type family and outcome', () => {
    const chain = new ChainWindow(100, () => NOW);
    for (let sequence = 1; sequence <= 200; sequence += 1) chain.add(checked(sequence));
    // Kept: 101..200; refused every tenth (all even, so workload.admit).
    const refused = chain.rows({ eventType: '', outcome: 'refused' });
    expect(refused.rows.map((row) => row.event.sequence)).toEqual([200, 190, 180, 170, 160, 150, 140, 130, 120, 110]);
    expect(chain.rows({ eventType: 'workload.*', outcome: '' }).matching).toBe(50);
    expect(chain.rows({ eventType: 'object.get', outcome: 'refused' }).matching).toBe(0);
    expect(chain.rows(ALL).rows).toHaveLength(100);
    expect(chain.rows(ALL, SHOWN_ROWS).rows.length).toBeLessThanOrEqual(SHOWN_ROWS);
  });

  it('keeps the first broken events after they leave the kept ones, and names the first break', () => {
    const chain = new ChainWindow(10, () => NOW);
    chain.add(checked(1));
    chain.add(checked(2, {}, ['event_hash does not match the event']));
    for (let sequence = 3; sequence <= 50; sequence += 1) chain.add(checked(sequence));
    chain.add(checked(51, {}, ['sequence 50 is missing']));
    expect(chain.broken).toBe(2);
    expect(chain.firstBreak?.event.sequence).toBe(2);
    const { rows, matching } = chain.rows(ALL);
    // The ten kept (42..51, of which 51 is broken), then sequence 2 below them.
    expect(rows.map((row) => row.event.sequence)).toEqual([51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 2]);
    expect(matching).toBe(11);
    expect(rows[0]!.problems).toEqual(['sequence 50 is missing']);
    expect(chain.rows({ eventType: 'object.get', outcome: '' }).rows.map((row) => row.event.sequence)).toEqual([51, 49, 47, 45, 43]);
  });

  it('counts events per minute by outcome over the chart minutes only', () => {
    let now = NOW;
    const chain = new ChainWindow(5, () => now);
    const minute = (ago: number) => new Date(NOW - ago * 60_000).toISOString();
    chain.add(checked(1, { occurredAt: minute(45) }));
    chain.add(checked(2, { occurredAt: minute(29), outcome: 'refused' }));
    chain.add(checked(3, { occurredAt: minute(0) }));
    chain.add(checked(4, { occurredAt: minute(0), outcome: 'failed' }));
    chain.add(checked(5, { occurredAt: minute(0), outcome: 'unknown' }));
    chain.add(checked(6, { occurredAt: 'not a time' }));
    let counts = chain.minuteCounts();
    expect(counts).toHaveLength(CHART_MINUTES);
    expect(counts[0]).toEqual({ accepted: 0, refused: 1, failed: 0 });
    expect(counts[CHART_MINUTES - 1]).toEqual({ accepted: 1, refused: 0, failed: 1 });
    expect(counts.reduce((sum, bucket) => sum + bucket.accepted + bucket.refused + bucket.failed, 0)).toBe(3);
    // Two minutes later the oldest minute has left the chart.
    now += 2 * 60_000;
    counts = chain.minuteCounts();
    expect(counts.reduce((sum, bucket) => sum + bucket.refused, 0)).toBe(0);
    expect(counts[CHART_MINUTES - 3]).toEqual({ accepted: 1, refused: 0, failed: 1 });
  });

  it('refuses a window that keeps nothing', () => {
    expect(() => new ChainWindow(0)).toThrow(RangeError);
  });
});

describe("the console's words for a failed subscription", () => {
  it('names a closed connection by its code when it has no reason', () => {
    expect(describeFailure({ code: 4408, reason: '' })).toBe('connection closed 4408');
    expect(describeFailure({ code: 4403, reason: 'Forbidden' })).toBe('connection closed 4403: Forbidden');
    expect(describeFailure(new Error('socket hang up'))).toBe('socket hang up');
    expect(describeFailure('gone')).toBe('gone');
  });
});
