/**
 * How far a verification has gone, for a progress display: the verifier reports every
 * thousand files or events and at each change of stage; the listener decides how often
 * to show it. Where the reader can tell how far it is through the whole bundle (the
 * compressed bytes of a `.tar.gz`; a directory's artifact files once hashed), that is the
 * measure of the bar and the time left: the event pass alone ends well before the archive.
 */
import type { BundleEntry, BundleMeter } from './bundle';

export interface VerifyProgress {
  /** `reading`: files passing by; `events`: the event pass; `artifacts`: matching artifacts with their references. */
  stage: 'reading' | 'events' | 'artifacts';
  /** Files read so far. */
  files: number;
  /** Events checked so far. */
  events: number;
  /** Events the manifest's scope announces, once the manifest has been read. */
  expectedEvents?: number;
  /** How far through the whole bundle (`BundleMeter`), with its rate once measured. */
  bundle?: { read: number; size: number; unit: BundleMeter['unit']; perSecond?: number };
}

export type ProgressListener = (progress: Readonly<VerifyProgress>) => void;

const REPORT_EVERY = 1000;
/** A rate measured over less than this is noise. */
const MIN_RATE_MS = 500;

export class ProgressReport {
  private readonly state: VerifyProgress = { stage: 'reading', files: 0, events: 0 };
  private meter: { source: BundleMeter; at: number; read: number } | undefined;

  constructor(private readonly listener: ProgressListener | undefined) {}

  stage(stage: VerifyProgress['stage']): void {
    this.state.stage = stage;
    this.report();
  }

  expect(events: number): void {
    this.state.expectedEvents = events;
  }

  /** A file handed over; its `meter`, when it has one, is followed from then on. */
  file(entry?: Pick<BundleEntry, 'meter'>): void {
    this.state.files += 1;
    const source = entry?.meter;
    if (source && source !== this.meter?.source) this.meter = { source, at: Date.now(), read: source.read };
    if (this.state.files % REPORT_EVERY === 0) this.report();
  }

  /** Events checked so far (the event pass reports every thousand). */
  events(count: number): void {
    this.state.events = count;
    this.report();
  }

  private report(): void {
    if (!this.listener) return;
    if (this.meter) {
      const { source, at, read } = this.meter;
      const elapsed = Date.now() - at;
      const perSecond = elapsed >= MIN_RATE_MS && source.read > read ? ((source.read - read) * 1000) / elapsed : undefined;
      this.state.bundle = { read: source.read, size: source.size, unit: source.unit, ...(perSecond ? { perSecond } : {}) };
    }
    this.listener(this.state);
  }
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** An 80-column terminal less the display's `verifying: ` and the last column, which a terminal may wrap at. */
export const PROGRESS_COLUMNS = 68;
const MAX_BAR = 20;
const MIN_BAR = 5;

/** `41% ETA 58 s [####------] <what>`: the share and the time left first, the bar as wide as `columns` leaves room for. */
function barred(done: number, secondsLeft: number | undefined, what: string, columns: number): string {
  const head = `${Math.floor(Math.min(1, done) * 100)}%${secondsLeft === undefined ? '' : ` ETA ${duration(Math.max(0, secondsLeft))}`}`;
  const width = Math.min(MAX_BAR, columns - head.length - what.length - 4);
  if (width < MIN_BAR) return `${head} ${what}`;
  const filled = Math.round(Math.min(1, done) * width);
  return `${head} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${what}`;
}

/** What the events and files stand at, e.g. `412,000 / 1,000,000 events, 10,234 events/s`. */
function status(progress: Readonly<VerifyProgress>, eventsPerSecond: number | undefined): string {
  const { stage, files, events, expectedEvents } = progress;
  const rate = eventsPerSecond && eventsPerSecond > 0 ? `, ${count(eventsPerSecond)} events/s` : '';
  if (stage === 'events') return `${count(events)}${expectedEvents ? ` / ${count(expectedEvents)}` : ''} events${rate}`;
  const checked = events > 0 ? `${count(events)} events checked; ` : '';
  return stage === 'artifacts' ? `${checked}matching artifacts with their references` : `${checked}${count(files)} files read`;
}

/**
 * One line for a progress display, at most `columns` characters wide, e.g.
 * `41% ETA 58 s [####----] 412,000 / 1,000,000 events, 10,234 events/s`. The share and the
 * time left are those of the whole bundle when its reader tells them (`bundle`), else of the
 * event pass (`expectedEvents` and `eventsPerSecond`, the caller's measure of the pass; absent
 * before it starts). After the event pass, a directory's artifacts are a stage of their own.
 */
export function progressLine(progress: Readonly<VerifyProgress>, eventsPerSecond?: number, columns = PROGRESS_COLUMNS): string {
  const { stage, events, expectedEvents, bundle } = progress;
  const line = (() => {
    if (bundle && bundle.size > 0 && (bundle.unit === 'bytes' || stage !== 'events')) {
      const left = bundle.perSecond ? (bundle.size - bundle.read) / bundle.perSecond : undefined;
      const what =
        bundle.unit === 'bytes' || stage === 'artifacts'
          ? status(progress, eventsPerSecond)
          : `artifacts: ${count(bundle.read)} / ${count(bundle.size)} files`;
      return barred(bundle.read / bundle.size, left, what, columns);
    }
    if (stage === 'events' && expectedEvents && expectedEvents > 0) {
      const left = eventsPerSecond && eventsPerSecond > 0 ? (expectedEvents - events) / eventsPerSecond : undefined;
      return barred(events / expectedEvents, left, status(progress, eventsPerSecond), columns);
    }
    return status(progress, eventsPerSecond);
  })();
  return line.length > columns ? line.slice(0, columns) : line;
}
