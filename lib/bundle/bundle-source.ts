/**
 * What a streamed bundle is made of: the events of one chain range (read again for every
 * pass, in batches) and a lookup of artifact bytes by pointer. The audit plane backs it
 * with the evidence tables; tests back it with memory (test/support/memory-source.ts).
 */
import { createHash } from 'node:crypto';
import type { EvidenceEvent } from '../evidence/evidence-event';
import { pointerDigest } from './pointers';
import { NCP_FIELDS } from './profiles';

/** One event: its stored canonical text (the events.jsonl line) and the parsed event. */
export interface SourceEvent {
  text: string;
  event: EvidenceEvent;
}

export interface BundleSource {
  /** The events of the range in sequence order, in batches; each call starts a fresh pass. */
  events(): AsyncIterable<readonly SourceEvent[]>;
  /** The bytes of the given artifacts; unknown pointers are left out of the map. */
  artifacts(pointers: readonly string[]): Promise<ReadonlyMap<string, Uint8Array>>;
}

/** The range a bundle covers, fixed before any event is read. */
export interface BundleScope {
  tenantId: string;
  chainId: string;
  fromSequence: number;
  toSequence: number;
  profileId: string;
}

/** File name of an artifact inside the bundle: by the SHA-256 its pointer names. */
export function artifactFileName(pointer: string): string {
  const digest = pointerDigest(pointer);
  if (!digest) throw new Error(`${pointer} is not a content-addressed pointer (eosc://evidence/sha256:<hex>)`);
  return `artifacts/sha256-${digest}.json`;
}

/** The artifact bytes of `pointer`, checked against the digest it names. */
export function checkedArtifact(pointer: string, artifacts: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const bytes = artifacts.get(pointer);
  if (!bytes) throw new Error(`no artifact for ${pointer}`);
  if (createHash('sha256').update(bytes).digest('hex') !== pointerDigest(pointer)) {
    throw new Error(`the artifact of ${pointer} does not match its hash`);
  }
  return bytes;
}

/** The NCP artifact reference an event declares, if it carries all three NCP fields. */
export function ncpReference(event: EvidenceEvent): { ref: string; type: string } | undefined {
  if (!NCP_FIELDS.every((field) => typeof event[field] === 'string')) return undefined;
  return { ref: String(event.artifact_ref), type: String(event.artifact_type) };
}
