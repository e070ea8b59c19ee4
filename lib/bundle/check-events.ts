/**
 * One streaming pass over events.jsonl: each line must be the canonical JSON of its event
 * with a matching `event_hash`; the chain is checked by the ledger's `ChainVerifier` from
 * the segment's first event; each event is compared with its chain-segment entry (read
 * beside it from the spooled segment) and checked for its profile's envelope, refusal
 * fields, evidence pointer, NCP declaration and tenant; and the segment/bundle hashes and
 * Merkle root are accumulated as it goes. Memory holds one line and one batch of segment
 * entries; the artifacts the events point at are matched later (artifact-index.ts), each
 * reference keeping its place among the findings.
 */
import { canonicalJson, contentDigest } from '../evidence/canonical-json';
import type { JsonObject } from '../evidence/canonical-json';
import { ChainVerifier } from '../evidence/chain-verifier';
import { fileLines } from './bundle';
import type { ReadLimits } from './bundle';
import { declaredMethod } from './check-documents';
import { isObject, list, obj, str } from './read-documents';
import type { BundleDocuments } from './read-documents';
import { STEP } from './findings';
import type { Findings } from './findings';
import { MERKLE_ROOT_METHOD, accumulatorFor } from './hash-methods';
import type { EventHashAccumulator } from './hash-methods';
import { pointerDigest } from './pointers';
import type { ArtifactIndex } from './artifact-index';
import {
  NCP_EVENT_TYPES,
  NCP_FIELDS,
  NCP_PROFILE,
  OUTCOMES,
  profileRules,
  REFUSAL_ANCHORS,
  REFUSAL_CLASSES,
  REFUSAL_FIELDS,
  ncpCategory,
} from './profiles';

export interface EventPass {
  count: number;
  firstSequence?: number;
  lastSequence?: number;
  chainId?: string;
  segmentHash?: string;
  bundleHash?: string;
  merkleRoot?: string;
  refused: number;
  ncpDeclarations: number;
}

interface PassState {
  documents: BundleDocuments;
  findings: Findings;
  artifacts: ArtifactIndex;
  chain: ChainVerifier;
  /** One accumulator per distinct method (segment and bundle hash share the golden one). */
  accumulators: Map<string, EventHashAccumulator | undefined>;
  pass: EventPass;
  onEvent?: EventObserver;
}

/** Called every `PROGRESS_EVERY` events with the number checked so far. */
export type EventProgress = (events: number) => void;
const PROGRESS_EVERY = 1000;

/**
 * Shown every event that parses as a JSON object, in file order, whether or not it passes
 * its checks (those fail the bundle on their own): for callers that need a few facts of
 * the chain without a second pass (migration-link.ts). It must not keep the events.
 */
export type EventObserver = (event: Readonly<JsonObject>) => void;

/** The segment's entries one at a time, from their batches (`undefined` past the last). */
class EntryCursor {
  private batch: unknown[] = [];
  private position = 0;
  private readonly batches: AsyncIterator<unknown[]> | undefined;

  constructor(documents: BundleDocuments) {
    this.batches = documents.segmentEntries?.batches()[Symbol.asyncIterator]();
  }

  async next(): Promise<unknown> {
    while (this.position === this.batch.length) {
      const next = await this.batches?.next();
      if (!next || next.done) return undefined;
      this.batch = next.value;
      this.position = 0;
    }
    return this.batch[this.position++];
  }

  /** Lets go of the entries not read (a segment listing more events than there are). */
  async close(): Promise<void> {
    await this.batches?.return?.();
  }
}

const at = (event: JsonObject, line: number): string =>
  typeof event.sequence === 'number' ? `sequence ${event.sequence}` : `line ${line}`;

function checkLine(state: PassState, text: string, line: number): JsonObject | undefined {
  const { findings } = state;
  let event: JsonObject;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) throw new Error('not an object');
    event = parsed;
  } catch {
    findings.fail('event-hashes', `line ${line} is not a JSON object`);
    state.chain.fail(line, 'unreadable event');
    return undefined;
  }
  // An event the chain verifier links is in canonical form with a matching event_hash (it
  // checks both): the text is canonicalised and hashed once, not twice.
  const linked = line === 1 ? state.chain.anchor(text) : state.chain.push(text);
  if (linked) return event;
  if (canonicalJson(event) !== text) findings.fail('event-hashes', `line ${line} is not in canonical JSON form`);
  const { event_hash: eventHash, ...unhashed } = event;
  if (typeof eventHash !== 'string') findings.fail('event-hashes', `${at(event, line)} has no event_hash`);
  else if (contentDigest(unhashed) !== eventHash) findings.fail('event-hashes', `${at(event, line)}: event_hash does not match the event`);
  return event;
}

function compareSegmentEntry(state: PassState, event: JsonObject, index: number, entry: unknown): void {
  if (!isObject(entry)) {
    state.findings.fail('segment', `chain-segment.json has no entry for ${at(event, index + 1)}`);
    return;
  }
  const pairs: Array<[string, unknown, unknown]> = [
    ['id', entry.id, event.id],
    ['sequence', entry.sequence, event.sequence],
    ['prev_hash', entry.prev_hash ?? null, event.prev_hash ?? null],
    ['event_hash', entry.event_hash, event.event_hash],
    ['event_ref', entry.event_ref, event.evidence_pointer],
    ['evidence_profile_id', entry.evidence_profile_id, event.evidence_profile_id ?? state.documents.manifest?.evidence_profile_id],
  ];
  for (const [field, listed, actual] of pairs) {
    if (listed !== actual) state.findings.fail('segment', `entry ${index + 1} ${field} differs from the event`);
  }
}

function checkEnvelope(state: PassState, event: JsonObject, line: number): void {
  const { findings, documents } = state;
  const profileId = str(documents.manifest, 'evidence_profile_id') ?? '';
  const rules = profileRules(profileId);
  const missing = (rules?.required ?? []).filter((field) => event[field] === undefined || event[field] === null);
  if (rules?.requirePrevHash && event.sequence !== 1 && typeof event.prev_hash !== 'string') missing.push('prev_hash');
  if (missing.length) findings.fail('envelope', `${at(event, line)} lacks ${missing.join(', ')}`);
  if (!OUTCOMES.has(String(event.outcome))) findings.fail('envelope', `${at(event, line)} has outcome ${JSON.stringify(event.outcome)}`);
  if (event.tenant_id !== documents.manifest?.tenant_id) findings.fail('tenant', `${at(event, line)} belongs to another tenant`);
  if (event.evidence_profile_id !== undefined && event.evidence_profile_id !== profileId) {
    findings.fail('profile-id', `${at(event, line)} declares profile ${JSON.stringify(event.evidence_profile_id)}`);
  }
  if (event.outcome !== 'refused') return;
  state.pass.refused += 1;
  const absent = REFUSAL_FIELDS.filter((field) => typeof event[field] !== 'string' || event[field] === '');
  if (absent.length) findings.fail('refusals', `refused ${at(event, line)} lacks ${absent.join(', ')}`);
  if (typeof event.refusal_reason_class === 'string' && !REFUSAL_CLASSES.has(event.refusal_reason_class as never)) {
    findings.fail('refusals', `refused ${at(event, line)} has unknown refusal_reason_class ${event.refusal_reason_class}`);
  }
  const anchors = REFUSAL_ANCHORS.filter((field) => typeof event[field] !== 'string');
  if (anchors.length) findings.note('refusals', `some refusals name no ${anchors.join('/')}`);
}

/**
 * Evidence pointer and NCP declaration. Their findings carry explicit keys (the line, then
 * the place within it) because an unmatched reference is only known when the artifact
 * index is joined, after the pass.
 */
function checkReferences(state: PassState, event: JsonObject, line: number): void {
  const { findings, artifacts, documents } = state;
  const pointer = pointerDigest(event.evidence_pointer);
  if (!pointer) {
    findings.fail('evidence-pointers', `${at(event, line)}: evidence_pointer is not eosc://evidence/sha256:<hex>`, [STEP.events, line, 0]);
  } else {
    const message = `${at(event, line)}: no artifact matches ${String(event.evidence_pointer)}`;
    artifacts.addReference(pointer, { check: 'evidence-pointers', key: [STEP.events, line, 0], message });
  }
  const declaration = NCP_EVENT_TYPES.has(String(event.event_type)) || NCP_FIELDS.some((field) => field in event);
  if (!declaration) return;
  state.pass.ncpDeclarations += 1;
  const profileId = str(documents.manifest, 'evidence_profile_id');
  if (profileId !== NCP_PROFILE) {
    findings.fail('ncp-artifacts', `${at(event, line)} is an NCP declaration in a ${profileId} bundle`, [STEP.events, line, 0]);
  }
  const absent = NCP_FIELDS.filter((field) => typeof event[field] !== 'string');
  if (absent.length) return findings.fail('ncp-artifacts', `${at(event, line)} lacks ${absent.join(', ')}`, [STEP.events, line, 1]);
  const digest = pointerDigest(event.artifact_ref);
  if (!digest || event.artifact_hash !== `sha256:${digest}`) {
    findings.fail('ncp-artifacts', `${at(event, line)}: artifact_hash does not match artifact_ref`, [STEP.events, line, 2]);
  } else {
    const message = `${at(event, line)}: no artifact matches ${String(event.artifact_ref)}`;
    artifacts.addReference(digest, { check: 'ncp-artifacts', key: [STEP.events, line, 2], message });
  }
  const category = ncpCategory(String(event.artifact_type));
  if (!list(obj(documents.manifest, 'artifacts'), category)?.includes(String(event.artifact_ref))) {
    findings.fail(
      'ncp-artifacts',
      `${at(event, line)}: the manifest does not list ${String(event.artifact_ref)} under artifacts.${category}`,
      [STEP.events, line, 3],
    );
  }
}

function inspect(state: PassState, text: string, line: number, entry: unknown): void {
  const { pass } = state;
  const event = checkLine(state, text, line);
  if (!event) return;
  state.onEvent?.(event);
  pass.firstSequence ??= typeof event.sequence === 'number' ? event.sequence : undefined;
  pass.lastSequence = typeof event.sequence === 'number' ? event.sequence : undefined;
  pass.chainId ??= str(event, 'chain_id');
  for (const accumulator of state.accumulators.values()) accumulator?.push(String(event.event_hash));
  compareSegmentEntry(state, event, line - 1, entry);
  checkEnvelope(state, event, line);
  checkReferences(state, event, line);
}

/**
 * The event pass over the bytes of events.jsonl (`undefined` when the bundle has none).
 * Reports to `findings` under the events step; matches pointers through `artifacts`.
 */
export async function checkEvents(
  events: AsyncIterable<Buffer> | undefined,
  documents: BundleDocuments,
  artifacts: ArtifactIndex,
  findings: Findings,
  limits: ReadLimits,
  progress?: EventProgress,
  onEvent?: EventObserver,
): Promise<EventPass> {
  findings.startStep(STEP.events);
  const pass: EventPass = { count: 0, refused: 0, ncpDeclarations: 0 };
  if (!events) {
    findings.fail('event-hashes', 'there is no events.jsonl');
    return pass;
  }
  const methods = [declaredMethod(documents, 'segment_hash_method'), declaredMethod(documents, 'bundle_hash_method'), MERKLE_ROOT_METHOD];
  const state: PassState = {
    documents,
    findings,
    artifacts,
    chain: new ChainVerifier(),
    accumulators: new Map(methods.map((method) => [method, accumulatorFor(method)])),
    pass,
    ...(onEvent ? { onEvent } : {}),
  };
  const entries = new EntryCursor(documents);
  try {
    for await (const { text, terminated } of fileLines(events, limits.maxLineBytes)) {
      pass.count += 1;
      if (!terminated) findings.fail('event-hashes', 'events.jsonl does not end with a newline');
      const entry = await entries.next();
      try {
        inspect(state, text, pass.count, entry);
      } catch (error) {
        // e.g. JSON nested deeper than the stack: refused, never thrown
        findings.fail('event-hashes', `line ${pass.count} cannot be checked: ${(error as Error).message.slice(0, 80)}`);
        state.chain.fail(pass.count, 'unreadable event');
      }
      if (pass.count % PROGRESS_EVERY === 0) progress?.(pass.count);
    }
  } catch (error) {
    findings.fail('event-hashes', `events.jsonl cannot be read to the end: ${(error as Error).message}`);
  } finally {
    await entries.close();
  }
  progress?.(pass.count);
  if (pass.count === 0) findings.fail('event-hashes', 'events.jsonl holds no event');
  if ((documents.segmentEntries?.count ?? 0) > pass.count)
    findings.fail('segment', 'chain-segment.json lists more events than events.jsonl');
  if (state.chain.failure) {
    findings.fail('chain-continuity', `sequence ${state.chain.failure.sequence}: ${state.chain.failure.reason}`);
  }
  const digests = new Map([...state.accumulators].map(([method, accumulator]) => [method, accumulator?.digest()]));
  [pass.segmentHash, pass.bundleHash, pass.merkleRoot] = methods.map((method) => digests.get(method));
  return pass;
}
