/**
 * How far a verification has gone, for a progress display: the verifier reports every
 * thousand files or events and at each change of stage; the listener decides how often
 * to show it.
 */

export interface VerifyProgress {
  /** `reading`: files passing by; `events`: the event pass; `artifacts`: matching artifacts with their references. */
  stage: 'reading' | 'events' | 'artifacts';
  /** Files read so far. */
  files: number;
  /** Events checked so far. */
  events: number;
  /** Events the manifest's scope announces, once the manifest has been read. */
  expectedEvents?: number;
}

export type ProgressListener = (progress: Readonly<VerifyProgress>) => void;

const REPORT_EVERY = 1000;

export class ProgressReport {
  private readonly state: VerifyProgress = { stage: 'reading', files: 0, events: 0 };

  constructor(private readonly listener: ProgressListener | undefined) {}

  stage(stage: VerifyProgress['stage']): void {
    this.state.stage = stage;
    this.listener?.(this.state);
  }

  expect(events: number): void {
    this.state.expectedEvents = events;
  }

  file(): void {
    this.state.files += 1;
    if (this.state.files % REPORT_EVERY === 0) this.listener?.(this.state);
  }

  /** Events checked so far (the event pass reports every thousand). */
  events(count: number): void {
    this.state.events = count;
    this.listener?.(this.state);
  }
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * One line for a progress display, e.g.
 * `[########------------] 41% 412,000 / 1,000,000 events, 10,234 events/s, ETA 57 s`.
 * `eventsPerSecond` is the caller's measure of the event pass (absent before it starts).
 */
export function progressLine(progress: Readonly<VerifyProgress>, eventsPerSecond?: number, barWidth = 20): string {
  const { stage, files, events, expectedEvents } = progress;
  const rate = eventsPerSecond && eventsPerSecond > 0 ? `, ${count(eventsPerSecond)} events/s` : '';
  if (stage === 'events' && expectedEvents && expectedEvents > 0) {
    const done = Math.min(1, events / expectedEvents);
    const filled = Math.round(done * barWidth);
    const eta = eventsPerSecond && eventsPerSecond > 0 ? `, ETA ${duration(Math.max(0, expectedEvents - events) / eventsPerSecond)}` : '';
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
    return `${bar} ${Math.floor(done * 100)}% ${count(events)} / ${count(expectedEvents)} events${rate}${eta}`;
  }
  if (stage === 'events') return `${count(events)} events${rate}`;
  const checked = events > 0 ? `${count(events)} events checked; ` : '';
  return stage === 'artifacts' ? `${checked}matching artifacts with their references` : `${checked}${count(files)} files read`;
}
