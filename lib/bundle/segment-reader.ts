/**
 * Reads chain-segment.json as it streams by, without holding it: its bytes are hashed
 * (chain_segment_ref, file_digests), its members other than `events` are kept (a few
 * hundred bytes), and the entries of `events` are checked as JSON one by one and spooled,
 * one line each, for the event pass to read back beside events.jsonl. The result is what
 * `JSON.parse` of the whole file would give: the same object (duplicate members: the last
 * wins), valid or invalid alike. A segment small enough is also kept whole until it ends,
 * so that an invalid one is reported with `JSON.parse`'s own words.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '../evidence/canonical-json';
import { BUNDLE_FILES, BundleReadError, fileLines } from './bundle';
import type { Findings, OrderKey } from './findings';
import { ValueCapture, isJsonSpace, startsValue } from './json-value-capture';
import { parseObject } from './read-documents';
import { Spool } from './spool';
import type { TempSpace } from './temp-space';

/** A segment up to this size is also kept whole while it is read. */
const EXACT_COPY_BYTES = 4 * 1024 * 1024;
/** Members other than `events`, in all. */
const MAX_MEMBER_BYTES = 16 * 1024 * 1024;

/** The entries of the segment's `events` list, spooled. */
export interface SegmentEntries {
  readonly count: number;
  /** The entries in order, parsed, in batches. */
  batches(): AsyncIterable<unknown[]>;
}

export interface SegmentContents {
  /** The parsed segment, its `events` list (when it is one) stood for by `[]`; absent when invalid. */
  object?: JsonObject;
  entries?: SegmentEntries;
  /** `sha256:<hex>` of the exact bytes. */
  digest: string;
}

enum State {
  Root,
  FirstMember,
  NextMember,
  Key,
  Colon,
  Value,
  ValueBytes,
  AfterMember,
  FirstElement,
  NextElement,
  ElementBytes,
  AfterElement,
  End,
  NotObject,
  Invalid,
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BATCH = 64;

class SpooledEntries implements SegmentEntries {
  count = 0;

  constructor(readonly spool: Spool) {}

  async *batches(): AsyncGenerator<unknown[]> {
    let batch: unknown[] = [];
    for await (const { text } of fileLines(this.spool.chunks(), Number.MAX_SAFE_INTEGER)) {
      batch.push(JSON.parse(text));
      if (batch.length === BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
}

export class SegmentReader {
  private readonly hash = createHash('sha256');
  private state = State.Root;
  private offset = 0;
  private copy: Buffer[] | undefined = [];
  private readonly capture: ValueCapture;
  private keyText = '';
  private members: string[] = [];
  private memberBytes = 0;
  private entries: SpooledEntries | undefined;
  private invalid: string | undefined;

  constructor(
    private readonly space: TempSpace,
    maxValueBytes: number,
  ) {
    this.capture = new ValueCapture(maxValueBytes, BUNDLE_FILES.segment);
  }

  write(chunk: Buffer): void {
    this.hash.update(chunk);
    if (this.copy && this.offset + chunk.length <= EXACT_COPY_BYTES) this.copy.push(chunk);
    else this.copy = undefined;
    let index = 0;
    while (index < chunk.length && this.state !== State.Invalid && this.state !== State.NotObject) {
      index = this.step(chunk, index);
    }
    this.offset += chunk.length;
  }

  /** Ends the file: reports a segment that is not a valid JSON object (as the `files` check) and returns what was read. */
  end(findings: Findings, key: OrderKey): SegmentContents {
    const digest = `sha256:${this.hash.digest('hex')}`;
    if (this.state === State.End) {
      const object = JSON.parse(`{${this.members.join(',')}}`) as JsonObject;
      this.entries?.spool.close();
      return { object, digest, ...(Array.isArray(object.events) && this.entries ? { entries: this.entries } : {}) };
    }
    const file = BUNDLE_FILES.segment;
    if (!this.copy) {
      const reason =
        this.state === State.NotObject ? 'is not a JSON object' : `is not valid UTF-8 JSON (${this.invalid ?? 'unexpected end'})`;
      findings.fail('files', `${file} ${reason}`, key);
      return { digest };
    }
    // Small enough to have been kept: parse it whole, for the exact words of the finding
    // (and, should the two ever disagree, JSON.parse has the last word).
    const object = parseObject(Buffer.concat(this.copy), file, findings, 'files', key);
    return object ? { object, digest, ...this.entriesOf(object) } : { digest };
  }

  private entriesOf(object: JsonObject): { entries?: SegmentEntries } {
    if (!Array.isArray(object.events)) return {};
    const entries = new SpooledEntries(new Spool(this.space, 'segment-entries'));
    for (const entry of object.events) entries.spool.write(`${JSON.stringify(entry)}\n`);
    entries.count = object.events.length;
    entries.spool.close();
    return { entries };
  }

  private fail(at: number, reason: string): number {
    this.invalid = `${reason} at byte ${this.offset + at}`;
    this.state = State.Invalid;
    return at;
  }

  /** Handles the byte at `index` (or a run of value bytes); returns where to go on. */
  private step(chunk: Buffer, index: number): number {
    const byte = chunk[index]!;
    switch (this.state) {
      case State.Root:
        if (isJsonSpace(byte)) return index + 1;
        if (byte === 0x7b) {
          this.state = State.FirstMember;
          return index + 1;
        }
        this.state = State.NotObject;
        return index;
      case State.FirstMember:
      case State.NextMember:
        if (isJsonSpace(byte)) return index + 1;
        if (byte === 0x7d && this.state === State.FirstMember) {
          this.state = State.End;
          return index + 1;
        }
        if (byte !== 0x22) return this.fail(index, 'expected a member name');
        this.capture.start(byte);
        this.state = State.Key;
        return index;
      case State.Key:
        return this.captured(chunk, index, () => this.key());
      case State.Colon:
        if (isJsonSpace(byte)) return index + 1;
        if (byte !== 0x3a) return this.fail(index, 'expected ":"');
        this.state = State.Value;
        return index + 1;
      case State.Value:
        if (isJsonSpace(byte)) return index + 1;
        if (byte === 0x5b && this.isEventsKey()) {
          this.entries = new SpooledEntries(new Spool(this.space, 'segment-entries'));
          this.state = State.FirstElement;
          return index + 1;
        }
        return this.startValue(byte, index, State.ValueBytes);
      case State.ValueBytes:
        return this.captured(chunk, index, () => this.member());
      case State.AfterMember:
        if (isJsonSpace(byte)) return index + 1;
        if (byte === 0x2c) this.state = State.NextMember;
        else if (byte === 0x7d) this.state = State.End;
        else return this.fail(index, 'expected "," or "}"');
        return index + 1;
      case State.FirstElement:
        if (isJsonSpace(byte)) return index + 1;
        if (byte === 0x5d) return this.endEvents(index);
        return this.startValue(byte, index, State.ElementBytes);
      case State.NextElement:
        if (isJsonSpace(byte)) return index + 1;
        return this.startValue(byte, index, State.ElementBytes);
      case State.ElementBytes:
        return this.captured(chunk, index, () => this.element());
      case State.AfterElement:
        if (isJsonSpace(byte)) return index + 1;
        if (byte === 0x2c) {
          this.state = State.NextElement;
          return index + 1;
        }
        if (byte === 0x5d) return this.endEvents(index);
        return this.fail(index, 'expected "," or "]"');
      case State.End:
        if (isJsonSpace(byte)) return index + 1;
        return this.fail(index, 'data after the end');
      default:
        return chunk.length;
    }
  }

  private startValue(byte: number, index: number, next: State): number {
    if (!startsValue(byte)) return this.fail(index, 'expected a value');
    this.capture.start(byte);
    this.state = next;
    return index;
  }

  /** Feeds the value being captured; when it ends, `done` decides what follows (or fails). */
  private captured(chunk: Buffer, index: number, done: () => string | undefined): number {
    const end = this.capture.feed(chunk, index);
    if (end === -1) return chunk.length;
    const problem = done();
    return problem ? this.fail(end, problem) : end;
  }

  private text(): string | undefined {
    try {
      return decoder.decode(this.capture.take());
    } catch {
      return undefined;
    }
  }

  private key(): string | undefined {
    const text = this.text();
    if (text === undefined || !isValidJson(text)) return 'invalid member name';
    this.keyText = text;
    this.state = State.Colon;
    return undefined;
  }

  private isEventsKey(): boolean {
    return (JSON.parse(this.keyText) as string) === 'events';
  }

  private member(): string | undefined {
    const text = this.text();
    if (text === undefined || !isValidJson(text)) return 'invalid value';
    this.addMember(`${this.keyText}:${text}`);
    this.state = State.AfterMember;
    return undefined;
  }

  private element(): string | undefined {
    const text = this.text();
    if (text === undefined || !isValidJson(text)) return 'invalid entry';
    // A line break can only be whitespace between tokens (JSON strings escape them).
    this.entries!.spool.write(`${text.replace(/[\r\n]/g, ' ')}\n`);
    this.entries!.count += 1;
    this.state = State.AfterElement;
    return undefined;
  }

  private endEvents(index: number): number {
    this.addMember(`${this.keyText}:[]`);
    this.state = State.AfterMember;
    return index + 1;
  }

  private addMember(text: string): void {
    this.memberBytes += text.length;
    if (this.memberBytes > MAX_MEMBER_BYTES) {
      throw new BundleReadError(`${BUNDLE_FILES.segment} holds more than ${MAX_MEMBER_BYTES} bytes of members besides its events`);
    }
    this.members.push(text);
  }
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
