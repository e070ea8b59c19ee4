import { ENVELOPE_FIELDS } from './evidence-event';
import type { EvidenceEvent } from './evidence-event';

/** A stored event: its canonical text parsed back, with the fields outside the envelope apart. */
export interface StoredEvent {
  envelope: EvidenceEvent;
  details: Record<string, unknown>;
  canonical: string;
}

export function toStoredEvent(row: { canonical: string }): StoredEvent {
  const envelope = JSON.parse(row.canonical) as EvidenceEvent;
  const details = Object.fromEntries(Object.entries(envelope).filter(([key]) => !ENVELOPE_FIELDS.has(key)));
  return { envelope, details, canonical: row.canonical };
}
