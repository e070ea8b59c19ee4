/**
 * The exact text of chain-segment.json, in pieces: the head (known before any event), one
 * entry per event, and the tail (known after the last). The bundle writer and the export
 * stream both render the segment through these, so their bytes agree.
 */
import type { EvidenceEvent } from '../evidence/evidence-event';

export interface SegmentHead {
  chainId: string;
  tenantId: string;
  profileId: string;
  fromSequence: number;
  toSequence: number;
}

const field = (key: string, value: string | number): string => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},\n`;
const indent = (json: string, spaces: string): string =>
  json
    .split('\n')
    .map((line) => spaces + line)
    .join('\n');

export function segmentHead({ chainId, tenantId, profileId, fromSequence, toSequence }: SegmentHead): string {
  return (
    '{\n' +
    field('segment_id', `seg-${chainId}-${fromSequence}-${toSequence}`) +
    field('tenant_id', tenantId) +
    field('evidence_profile_id', profileId) +
    field('from_sequence', fromSequence) +
    field('to_sequence', toSequence) +
    field('algorithm', 'sha256') +
    '  "events": [\n'
  );
}

/** The segment's entry of an event, as a compact JSON line (spooled by the writer). */
export function segmentEntryLine(event: EvidenceEvent, profileId: string): string {
  return JSON.stringify({
    id: event.id,
    sequence: event.sequence,
    prev_hash: event.prev_hash ?? null,
    event_hash: event.event_hash,
    evidence_profile_id: profileId,
    event_ref: event.evidence_pointer,
  });
}

/** The rendered text of one entry (`first`: no separating comma before it). */
export function segmentEntryText(entryLine: string, first: boolean): string {
  const entry = JSON.stringify(JSON.parse(entryLine) as unknown, null, 2);
  return `${first ? '' : ',\n'}${indent(entry, '    ')}`;
}

/** The golden method makes segment_hash and bundle_hash the same value over one segment. */
export function segmentTail({ bundleHash, merkleRoot }: { bundleHash: string; merkleRoot: string }): string {
  return `\n  ],\n${field('segment_hash', bundleHash)}  "merkle_root": ${JSON.stringify(merkleRoot)}\n}\n`;
}
