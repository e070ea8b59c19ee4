import { ProgressDisplay } from '../../cli/verify';
import { progressLine } from '../../lib/bundle/verify-progress';

describe('verification progress', () => {
  it('one line: a bar, events/s and the time left when the manifest announced the total', () => {
    expect(progressLine({ stage: 'events', files: 7, events: 412_000, expectedEvents: 1_000_000 }, 10_234)).toBe(
      '[########------------] 41% 412,000 / 1,000,000 events, 10,234 events/s, ETA 58 s',
    );
    expect(progressLine({ stage: 'events', files: 7, events: 5_000, expectedEvents: 1_000_000 }, 1_000)).toMatch(/ETA 17 min$/);
    expect(progressLine({ stage: 'events', files: 2, events: 412_000 }, 10_234)).toBe('412,000 events, 10,234 events/s');
    expect(progressLine({ stage: 'reading', files: 350_000, events: 0 })).toBe('350,000 files read');
    expect(progressLine({ stage: 'reading', files: 350_000, events: 1_000_000 })).toBe('1,000,000 events checked; 350,000 files read');
    expect(progressLine({ stage: 'artifacts', files: 1_000_007, events: 1_000_000 })).toBe(
      '1,000,000 events checked; matching artifacts with their references',
    );
  });

  it('on a terminal: redrawn in place at most four times a second, cut to the width, erased at the end', () => {
    let now = 1_000_000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      let written = '';
      const stream = { isTTY: true, columns: 40, write: (text: string) => void (written += text) } as unknown as NodeJS.WriteStream;
      const display = new ProgressDisplay(stream, 1000);
      const progress = { stage: 'events' as const, files: 7, events: 0, expectedEvents: 100_000 };
      display.update(progress);
      expect(written).toBe(''); // a verification shorter than a second shows nothing
      now += 1000;
      display.update({ ...progress, events: 20_000 });
      now += 100;
      display.update({ ...progress, events: 21_000 });
      const lines = written.split('\r\u001b[K').filter(Boolean);
      expect(lines).toEqual(['verifying: [####----------------] 20% 2']); // 39 columns of 40
      now += 200;
      display.update({ ...progress, events: 30_000 });
      display.finish();
      expect(written.endsWith('\r\u001b[K')).toBe(true);
      expect(written.split('\r\u001b[K').filter(Boolean)).toHaveLength(2);
    } finally {
      clock.mockRestore();
    }
  });
});
