import { randomUUID } from 'node:crypto';
import { canonicalJson, sha256Digest } from './canonical-json';
import type { JsonObject } from './canonical-json';

/**
 * The canonical text of an event prepared up to its chain position. RFC 8785 sorts members
 * by key, so the three members that depend on the position (`event_hash`, `prev_hash`,
 * `sequence`) have fixed places whatever the values, and the rest of the text is known
 * before the chain head is locked:
 *
 *   beforeHash [event_hash member] beforePrev [prev_hash member] beforeSequence <n> afterSequence
 *
 * Each bracketed member is followed by a comma: `event_type` always sorts after
 * `event_hash`, `sequence` after `prev_hash`, and `tenant_id` after `sequence`.
 */
export interface EventTemplate {
  beforeHash: string;
  beforePrev: string;
  beforeSequence: string;
  afterSequence: string;
}

/** Where a template is placed: its sequence and the hash of the event before it (none for the first). */
export interface TemplatePosition {
  sequence: number;
  prevHash?: string | null;
}

/** A template filled in at a position. */
export interface FilledEvent {
  /** `ecs-hash-v1` of the event without `event_hash`. */
  eventHash: string;
  /** The stored canonical text, `event_hash` included. */
  canonical: string;
}

// Markers no value can hold: a value that happened to contain one would fail the split below.
const MARK = `ecs-position-${randomUUID()}`;
const HASH_MARK = `${MARK}-hash`;
const PREV_MARK = `${MARK}-prev`;
const SEQUENCE_MARK = `${MARK}-sequence`;

/**
 * The template of `fields`: an event envelope without `sequence`, `prev_hash` and `event_hash`.
 * @throws Error when `fields` holds one of the three, or a marker (never in practice)
 */
export function eventTemplate(fields: JsonObject): EventTemplate {
  for (const member of ['sequence', 'prev_hash', 'event_hash']) {
    if (member in fields) throw new Error(`an event template cannot hold "${member}"`);
  }
  const text = canonicalJson({ ...fields, event_hash: HASH_MARK, prev_hash: PREV_MARK, sequence: SEQUENCE_MARK });
  const [beforeHash, afterHash] = splitOnce(text, `"event_hash":"${HASH_MARK}",`);
  const [beforePrev, afterPrev] = splitOnce(afterHash, `"prev_hash":"${PREV_MARK}",`);
  const [beforeSequence, afterSequence] = splitOnce(afterPrev, `"${SEQUENCE_MARK}"`);
  return { beforeHash, beforePrev, beforeSequence, afterSequence };
}

/**
 * Fills `template` in at `position`, exactly as the database's `audit_event_text` does
 * (prisma/migrations/*_evidence_append_function).
 */
export function fillEventTemplate(template: EventTemplate, position: TemplatePosition): FilledEvent {
  const prevMember = position.prevHash ? `"prev_hash":"${position.prevHash}",` : '';
  const rest = `${template.beforePrev}${prevMember}${template.beforeSequence}${position.sequence}${template.afterSequence}`;
  const eventHash = sha256Digest(template.beforeHash + rest);
  return { eventHash, canonical: `${template.beforeHash}"event_hash":"${eventHash}",${rest}` };
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  if (at < 0 || text.indexOf(separator, at + 1) >= 0) throw new Error('event template markers are not where RFC 8785 puts them');
  return [text.slice(0, at), text.slice(at + separator.length)];
}
