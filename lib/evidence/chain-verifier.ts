import { canonicalJson, contentDigest } from './canonical-json';
import type { JsonObject } from './canonical-json';

export interface ChainFailure {
  sequence: number;
  reason: string;
}

/** Stored columns that must agree with the hashed event (a row edited column by column). */
export interface EventColumns {
  id?: string;
  chainId?: string;
  sequence?: number;
  tenantId?: string;
  eventType?: string;
  outcome?: string;
  evidencePointer?: string;
  prevHash?: string | null;
  eventHash?: string;
}

const COLUMN_FIELDS: Array<[keyof EventColumns, string]> = [
  ['id', 'id'],
  ['chainId', 'chain_id'],
  ['sequence', 'sequence'],
  ['tenantId', 'tenant_id'],
  ['eventType', 'event_type'],
  ['outcome', 'outcome'],
  ['evidencePointer', 'evidence_pointer'],
  ['prevHash', 'prev_hash'],
  ['eventHash', 'event_hash'],
];

/**
 * Checks events of one chain in order: sequence +1 with no gap, `prev_hash` equal to the
 * previous `event_hash` (absent on sequence 1), `event_hash` recomputed from the canonical
 * JSON without it, one chain and one tenant throughout. Feed events with `push`; the first
 * failure is kept and later events are ignored.
 */
export class ChainVerifier {
  private expectedSequence: number | undefined;
  private previousHash: string | undefined;
  private chainId: string | undefined;
  private tenantId: string | undefined;
  checked = 0;
  failure: ChainFailure | undefined;

  /**
   * @param start the sequence and hash of the event before the first one pushed, when
   * verifying a range that does not start at sequence 1.
   */
  constructor(start?: { sequence: number; eventHash: string; chainId?: string; tenantId?: string }) {
    if (start) {
      this.expectedSequence = start.sequence + 1;
      this.previousHash = start.eventHash;
      this.chainId = start.chainId;
      this.tenantId = start.tenantId;
    }
  }

  /**
   * Starts a range after `text`: that event's own hash and columns are checked, its link
   * to the event before it is not (verify from sequence 1 for that).
   */
  anchor(text: string, columns: EventColumns = {}): boolean {
    let parsed: JsonObject;
    try {
      parsed = JSON.parse(text) as JsonObject;
    } catch {
      return this.fail(columns.sequence ?? 0, 'event is not valid JSON');
    }
    if (typeof parsed.sequence !== 'number') return this.fail(columns.sequence ?? 0, 'sequence is missing');
    this.expectedSequence = parsed.sequence;
    this.previousHash = typeof parsed.prev_hash === 'string' ? parsed.prev_hash : undefined;
    const ok = this.push(text, columns);
    if (ok) this.checked -= 1;
    return ok;
  }

  /** Verifies one event given as its stored canonical text; returns false once the chain is broken. */
  push(text: string, columns: EventColumns = {}): boolean {
    if (this.failure) return false;
    let event: JsonObject;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      event = parsed as JsonObject;
    } catch {
      return this.fail(this.expectedSequence ?? columns.sequence ?? 0, 'event is not valid JSON');
    }
    const sequence = event.sequence;
    const position = typeof sequence === 'number' ? sequence : (this.expectedSequence ?? 0);
    if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 1) {
      return this.fail(position, 'sequence is missing or not a positive integer');
    }
    if (this.expectedSequence === undefined) {
      if (sequence !== 1 && this.previousHash === undefined) {
        return this.fail(sequence, `chain starts at sequence ${sequence} without the event before it`);
      }
      this.expectedSequence = sequence;
    }
    if (sequence !== this.expectedSequence) {
      return this.fail(
        this.expectedSequence,
        sequence > this.expectedSequence
          ? `sequence ${this.expectedSequence} is missing (next event has ${sequence})`
          : `sequence ${sequence} repeats or is out of order (expected ${this.expectedSequence})`,
      );
    }
    const { event_hash: eventHash, ...unhashed } = event;
    if (typeof eventHash !== 'string') return this.fail(sequence, 'event_hash is missing');
    if (text !== canonicalJson(event)) return this.fail(sequence, 'stored event is not in canonical JSON form');
    if (contentDigest(unhashed) !== eventHash) return this.fail(sequence, 'event_hash does not match the event');
    if (sequence === 1 && this.previousHash === undefined) {
      if (event.prev_hash !== undefined) return this.fail(sequence, 'first event must have no prev_hash');
    } else if ((event.prev_hash ?? undefined) !== this.previousHash) {
      // (an exported segment may mark its first event's predecessor as null)
      return this.fail(sequence, 'prev_hash does not match the previous event_hash');
    }
    if (typeof event.chain_id !== 'string' || (this.chainId !== undefined && event.chain_id !== this.chainId)) {
      return this.fail(sequence, 'chain_id differs from the rest of the chain');
    }
    if (typeof event.tenant_id !== 'string' || (this.tenantId !== undefined && event.tenant_id !== this.tenantId)) {
      return this.fail(sequence, 'tenant_id differs from the rest of the chain');
    }
    for (const [column, field] of COLUMN_FIELDS) {
      const stored = columns[column];
      if (stored === undefined) continue;
      if ((stored ?? undefined) !== (event[field] ?? undefined)) {
        return this.fail(sequence, `stored column ${field} differs from the hashed event`);
      }
    }
    this.chainId = event.chain_id;
    this.tenantId = event.tenant_id;
    this.previousHash = eventHash;
    this.expectedSequence = sequence + 1;
    this.checked += 1;
    return true;
  }

  /** The sequence and hash of the last verified event. */
  get head(): { sequence: number; eventHash: string } | undefined {
    return this.expectedSequence !== undefined && this.previousHash !== undefined
      ? { sequence: this.expectedSequence - 1, eventHash: this.previousHash }
      : undefined;
  }

  fail(sequence: number, reason: string): false {
    this.failure ??= { sequence, reason };
    return false;
  }
}
