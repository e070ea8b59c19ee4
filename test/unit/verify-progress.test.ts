import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ProgressDisplay } from '../../cli/verify';
import type { BundleEntry } from '../../lib/bundle/bundle';
import { DEFAULT_LIMITS } from '../../lib/bundle/bundle';
import { directoryEntries } from '../../lib/bundle/bundle-entries';
import { readTarEntries } from '../../lib/bundle/tar-reader';
import { TempSpace } from '../../lib/bundle/temp-space';
import { ProgressReport, progressLine } from '../../lib/bundle/verify-progress';
import type { VerifyProgress } from '../../lib/bundle/verify-progress';
import { writeLongBundle } from '../../testkit/long-bundle';
import { makeTempDir } from '../../testkit/temp-dir';
import { bundleFileNames, packInOrder } from '../support/bundle-writer/pack-in-order';

/** A terminal `columns` wide, collecting what is drawn on it. */
function terminal(columns: number): { stream: NodeJS.WriteStream; lines(): string[]; written(): string } {
  let written = '';
  const stream = { isTTY: true, columns, write: (text: string) => void (written += text) } as unknown as NodeJS.WriteStream;
  return { stream, lines: () => written.split('\r\u001b[K').filter(Boolean), written: () => written };
}

function withClock<T>(run: (advance: (ms: number) => void) => T): T {
  let now = 1_000_000;
  const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
  try {
    return run((ms) => void (now += ms));
  } finally {
    clock.mockRestore();
  }
}

describe('verification progress', () => {
  it('one line: the share and the time left first, then a bar, the events and events/s', () => {
    expect(progressLine({ stage: 'events', files: 7, events: 412_000, expectedEvents: 1_000_000 }, 10_234)).toBe(
      '41% ETA 58 s [####-----] 412,000 / 1,000,000 events, 10,234 events/s',
    );
    expect(progressLine({ stage: 'events', files: 7, events: 412_000, expectedEvents: 1_000_000 }, 10_234, 120)).toBe(
      '41% ETA 58 s [########------------] 412,000 / 1,000,000 events, 10,234 events/s',
    );
    expect(progressLine({ stage: 'events', files: 7, events: 5_000, expectedEvents: 1_000_000 }, 1_000)).toMatch(/^0% ETA 17 min /);
    // Ten million events leave no room for a bar in 68 columns: the rest stays.
    expect(progressLine({ stage: 'events', files: 7, events: 4_120_000, expectedEvents: 10_000_000 }, 10_234)).toBe(
      '41% ETA 10 min 4,120,000 / 10,000,000 events, 10,234 events/s',
    );
    expect(progressLine({ stage: 'events', files: 2, events: 412_000 }, 10_234)).toBe('412,000 events, 10,234 events/s');
    expect(progressLine({ stage: 'reading', files: 350_000, events: 0 })).toBe('350,000 files read');
    expect(progressLine({ stage: 'reading', files: 350_000, events: 1_000_000 })).toBe('1,000,000 events checked; 350,000 files read');
    expect(progressLine({ stage: 'artifacts', files: 1_000_007, events: 1_000_000 })).toBe(
      '1,000,000 events checked; matching artifacts with their references',
    );
    for (const columns of [40, 68, 80, 200]) {
      const line = progressLine({ stage: 'events', files: 7, events: 4_120_000, expectedEvents: 10_000_000 }, 10_234, columns);
      expect(line.length).toBeLessThanOrEqual(columns);
    }
  });

  it("a .tar.gz: share and time left are the archive's, so the artifacts after the event pass are counted", () => {
    const bundle = { read: 100_000_000, size: 368_000_000, unit: 'bytes' as const, perSecond: 2_000_000 };
    expect(progressLine({ stage: 'events', files: 7, events: 412_000, expectedEvents: 1_000_000, bundle }, 10_234)).toBe(
      '27% ETA 2 min [##------] 412,000 / 1,000,000 events, 10,234 events/s',
    );
    // The event pass is over, a third of the archive is still to come.
    const after = { stage: 'reading' as const, files: 350_000, events: 1_000_000, expectedEvents: 1_000_000 };
    expect(progressLine({ ...after, bundle: { ...bundle, read: 250_000_000 } })).toBe(
      '67% ETA 59 s [#####---] 1,000,000 events checked; 350,000 files read',
    );
    expect(progressLine({ ...after, bundle: { ...bundle, read: 300_000_000, perSecond: undefined } as never })).toMatch(
      /^81% \[#+-*\] 1,000,000 events checked/,
    );
  });

  it("a directory: the event pass's bar, then the artifacts as a stage of their own", () => {
    const bundle = { read: 350_000, size: 1_000_000, unit: 'files' as const, perSecond: 50_000 };
    expect(progressLine({ stage: 'events', files: 7, events: 412_000, expectedEvents: 1_000_000, bundle }, 10_234)).toMatch(
      /^41% ETA 58 s /,
    );
    expect(progressLine({ stage: 'reading', files: 350_007, events: 1_000_000, expectedEvents: 1_000_000, bundle })).toBe(
      '35% ETA 13 s [######----------] artifacts: 350,000 / 1,000,000 files',
    );
  });

  it("the report follows the reader's meter and measures its rate", () => {
    withClock((advance) => {
      const seen: VerifyProgress[] = [];
      const report = new ProgressReport((progress) => seen.push(structuredClone(progress)));
      const meter = { read: 0, size: 1_000_000, unit: 'bytes' as const };
      report.file({ meter });
      report.stage('events');
      expect(seen.at(-1)!.bundle).toEqual({ read: 0, size: 1_000_000, unit: 'bytes' });
      advance(2000);
      meter.read = 400_000;
      report.events(1000);
      expect(seen.at(-1)!.bundle).toEqual({ read: 400_000, size: 1_000_000, unit: 'bytes', perSecond: 200_000 });
      expect(progressLine(seen.at(-1)!)).toMatch(/^40% ETA 3 s \[/);
      // A reader that cannot tell (a map, a directory's root files) leaves the bar to the event pass.
      const plain: VerifyProgress[] = [];
      const other = new ProgressReport((progress) => plain.push({ ...progress }));
      other.file({});
      other.stage('events');
      expect(plain.at(-1)!.bundle).toBeUndefined();
    });
  });

  it('on a terminal: redrawn in place at most four times a second, cut to the width, erased at the end', () => {
    withClock((advance) => {
      const screen = terminal(40);
      const display = new ProgressDisplay(screen.stream, 1000);
      const progress = { stage: 'events' as const, files: 7, events: 0, expectedEvents: 100_000 };
      display.update(progress);
      expect(screen.written()).toBe(''); // a verification shorter than a second shows nothing
      advance(1000);
      display.update({ ...progress, events: 20_000 });
      advance(100);
      display.update({ ...progress, events: 21_000 });
      expect(screen.lines()).toEqual(['verifying: 20% ETA 4 s 20,000 / 100,000']); // built for the 28 columns the prefix leaves of 40
      advance(200);
      display.update({ ...progress, events: 30_000 });
      display.finish();
      expect(screen.written().endsWith('\r\u001b[K')).toBe(true);
      expect(screen.lines()).toHaveLength(2);
    });
  });

  it('on an 80-column terminal a million events keep their ETA in sight', () => {
    withClock((advance) => {
      const screen = terminal(80);
      const display = new ProgressDisplay(screen.stream, 0);
      const progress = { stage: 'events' as const, files: 7, events: 0, expectedEvents: 1_000_000 };
      display.update(progress);
      advance(1000);
      display.update({ ...progress, events: 12_000 });
      const [line] = screen.lines().slice(-1) as [string];
      expect(line).toMatch(/ETA/);
      expect(line).toMatch(/^verifying: 1% ETA 83 s \[-+\] 12,000 \/ 1,000,000 events, 12,000 events\/s$/);
      expect(line.length).toBeLessThanOrEqual(79);
    });
  });
});

describe('how far through the whole bundle, as its readers tell it', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let dir: string;
  let archive: string;
  beforeAll(async () => {
    temp = await makeTempDir('ecs-progress-');
    dir = path.join(temp.path, 'bundle');
    await writeLongBundle(dir, { count: 3000, eventsPerRecord: 1 });
    archive = path.join(temp.path, 'bundle.tar.gz');
    const names = bundleFileNames(dir);
    const artifacts = names.filter((name) => name.startsWith('artifacts/'));
    await packInOrder(dir, [...names.filter((name) => !name.startsWith('artifacts/')), ...artifacts], createWriteStream(archive));
  });
  afterAll(() => temp.remove());

  /** Every entry read as the verifier reads it, with the report it would feed. */
  async function follow(entries: (space: TempSpace) => AsyncIterable<BundleEntry>): Promise<{ metered: number; last: VerifyProgress }> {
    const space = new TempSpace();
    let last: VerifyProgress | undefined;
    const report = new ProgressReport((progress) => (last = structuredClone(progress)));
    let metered = 0;
    try {
      for await (const entry of entries(space)) {
        report.file(entry);
        if (entry.meter) metered += 1;
        for await (const _ of entry.chunks());
      }
      report.stage('artifacts');
    } finally {
      await space.remove();
    }
    return { metered, last: last! };
  }

  it(".tar.gz: the archive's compressed bytes, to its size", async () => {
    const { size } = await stat(archive);
    const { metered, last } = await follow((space) => readTarEntries(archive, DEFAULT_LIMITS, space));
    expect(metered).toBe(last.files);
    expect({ read: last.bundle?.read, size: last.bundle?.size, unit: last.bundle?.unit }).toEqual({ read: size, size, unit: 'bytes' });
  });

  it('a directory: its artifact files once hashed, to their number', async () => {
    const { metered, last } = await follow((space) => directoryEntries(dir, DEFAULT_LIMITS, space));
    expect(metered).toBe(3000);
    expect({ read: last.bundle?.read, size: last.bundle?.size, unit: last.bundle?.unit }).toEqual({
      read: 3000,
      size: 3000,
      unit: 'files',
    });
  });
});
