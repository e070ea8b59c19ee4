/**
 * Finds where one JSON value ends in a stream of bytes and keeps its bytes: an object or
 * array at its matching bracket (brackets inside strings ignored), a string at its closing
 * quote, a number or literal before the next delimiter. It only cuts; `JSON.parse` of the
 * cut bytes decides whether the value is valid (a wrong bracket, a bad escape), so a
 * document is valid exactly when its glue and every cut value are.
 */
import { BundleReadError } from './bundle';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** JSON whitespace: space, tab, line feed, carriage return (nothing else, not even a BOM). */
export function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** A byte that can start a JSON value. */
export function startsValue(byte: number): boolean {
  return (
    byte === OPEN_OBJECT ||
    byte === OPEN_ARRAY ||
    byte === QUOTE ||
    byte === 0x2d || // -
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x74 || // t
    byte === 0x66 || // f
    byte === 0x6e // n
  );
}

type Kind = 'container' | 'string' | 'scalar';

export class ValueCapture {
  private parts: Buffer[] = [];
  private length = 0;
  private kind: Kind = 'scalar';
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** @param what names the document in the error for an over-long value */
  constructor(
    private readonly maxBytes: number,
    private readonly what: string,
  ) {}

  /** Starts a value whose first byte is `first` (not yet consumed; see `startsValue`). */
  start(first: number): void {
    this.parts = [];
    this.length = 0;
    this.kind = first === OPEN_OBJECT || first === OPEN_ARRAY ? 'container' : first === QUOTE ? 'string' : 'scalar';
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  /** Consumes `chunk` from `offset`: the offset just after the value, or -1 when it goes on in the next chunk. */
  feed(chunk: Buffer, offset: number): number {
    const end = this.kind === 'scalar' ? this.scalarEnd(chunk, offset) : this.delimitedEnd(chunk, offset);
    this.keep(chunk.subarray(offset, end === -1 ? chunk.length : end));
    return end;
  }

  /** The bytes of the value just ended (a scalar also ends at the end of the document). */
  take(): Buffer {
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    return bytes;
  }

  private scalarEnd(chunk: Buffer, offset: number): number {
    for (let index = offset; index < chunk.length; index += 1) {
      const byte = chunk[index]!;
      if (isJsonSpace(byte) || byte === COMMA || byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) return index;
    }
    return -1;
  }

  private delimitedEnd(chunk: Buffer, offset: number): number {
    const container = this.kind === 'container';
    for (let index = offset; index < chunk.length; index += 1) {
      const byte = chunk[index]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) {
          this.inString = false;
          if (!container) return index + 1;
        }
      } else if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) this.depth += 1;
      else if ((byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) && --this.depth === 0) return index + 1;
    }
    return -1;
  }

  private keep(piece: Buffer): void {
    if (piece.length === 0) return;
    this.length += piece.length;
    if (this.length > this.maxBytes) throw new BundleReadError(`${this.what} holds a value longer than ${this.maxBytes} bytes`);
    this.parts.push(piece);
  }
}
