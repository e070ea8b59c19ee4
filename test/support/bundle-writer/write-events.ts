/**
 * Pass one of writing a bundle: streams the ordered events into events.jsonl (canonical
 * JSON, one per line), checks them with the ledger's `ChainVerifier` as they go (a writer
 * must never produce a bundle that does not verify), writes each evidence pointer's
 * artifact once, and keeps only running hashes, the segment entries (spooled to a
 * temporary file) and the NCP artifact references: memory stays flat for long chains.
 */
import { createHash } from 'node:crypto';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../../../lib/evidence/canonical-json';
import { ChainVerifier } from '../../../lib/evidence/chain-verifier';
import type { EvidenceEvent } from '../../../lib/evidence/evidence-event';
import { ARTIFACTS_DIR, BUNDLE_FILES } from '../../../lib/bundle/bundle';
import { JOINED_HASH_METHOD, MERKLE_ROOT_METHOD, accumulatorFor } from '../../../lib/bundle/hash-methods';
import { HashingWriter } from './hashing-writer';
import { pointerDigest } from '../../../lib/bundle/pointers';
import { NCP_FIELDS, ncpCategory } from '../../../lib/bundle/profiles';
import { segmentEntryLine } from '../../../lib/bundle/segment-text';
import type { SegmentFacts } from '../../../lib/bundle/write-documents';

/** Where artifact bytes come from: a map or a lookup, keyed by pointer. */
export type ArtifactSource = ReadonlyMap<string, Uint8Array> | ((pointer: string) => Promise<Uint8Array | undefined>);

export interface EventFacts extends Omit<SegmentFacts, 'chainSegmentRef'> {
  count: number;
  eventsDigest: string;
  /** NCP artifact references by manifest category. */
  ncpArtifacts: Map<string, Set<string>>;
}

/** Digests remembered as written; past this the file system is asked (flat memory). */
const REMEMBERED_DIGESTS = 100_000;

export class ArtifactWriter {
  private readonly written = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly source: ArtifactSource,
  ) {}

  /** Writes the artifact of `pointer` unless already written; returns its file name. */
  async add(pointer: string): Promise<string> {
    const digest = pointerDigest(pointer);
    if (!digest) throw new Error(`${pointer} is not a content-addressed pointer (eosc://evidence/sha256:<hex>)`);
    const name = `${ARTIFACTS_DIR}sha256-${digest}.json`;
    if (this.written.has(digest)) return name;
    const file = path.join(this.dir, name);
    if (
      this.written.size >= REMEMBERED_DIGESTS &&
      (await access(file).then(
        () => true,
        () => false,
      ))
    )
      return name;
    if (this.written.size < REMEMBERED_DIGESTS) this.written.add(digest);
    const bytes = typeof this.source === 'function' ? await this.source(pointer) : this.source.get(pointer);
    if (!bytes) throw new Error(`no artifact for ${pointer}`);
    if (createHash('sha256').update(bytes).digest('hex') !== digest) throw new Error(`the artifact of ${pointer} does not match its hash`);
    await writeFile(file, bytes, { flag: 'wx' });
    return name;
  }
}

export async function writeEvents({
  dir,
  events,
  artifacts,
  profileId,
  entriesFile,
}: {
  dir: string;
  events: AsyncIterable<EvidenceEvent> | Iterable<EvidenceEvent>;
  artifacts: ArtifactWriter;
  profileId: string;
  entriesFile: string;
}): Promise<EventFacts> {
  const out = new HashingWriter(path.join(dir, BUNDLE_FILES.events));
  const entries = new HashingWriter(entriesFile);
  const chain = new ChainVerifier();
  const [bundleHash, merkleRoot] = [accumulatorFor(JOINED_HASH_METHOD)!, accumulatorFor(MERKLE_ROOT_METHOD)!];
  const ncpArtifacts = new Map<string, Set<string>>();
  let first: EvidenceEvent | undefined;
  let last: EvidenceEvent | undefined;
  let count = 0;
  try {
    for await (const event of events) {
      if (event.evidence_profile_id !== undefined && event.evidence_profile_id !== profileId) {
        throw new Error(`event ${String(event.sequence)} declares profile ${String(event.evidence_profile_id)}, not ${profileId}`);
      }
      const text = canonicalJson(event);
      if (!(count === 0 ? chain.anchor(text) : chain.push(text))) {
        throw new Error(`event ${String(event.sequence)} does not continue the chain: ${chain.failure?.reason ?? ''}`);
      }
      await out.write(`${text}\n`);
      await entries.write(`${segmentEntryLine(event, profileId)}\n`);
      bundleHash.push(event.event_hash);
      merkleRoot.push(event.event_hash);
      await artifacts.add(event.evidence_pointer);
      if (NCP_FIELDS.every((field) => typeof event[field] === 'string')) {
        await artifacts.add(String(event.artifact_ref));
        const category = ncpCategory(String(event.artifact_type));
        ncpArtifacts.set(category, (ncpArtifacts.get(category) ?? new Set()).add(String(event.artifact_ref)));
      }
      first ??= event;
      last = event;
      count += 1;
    }
    if (!first || !last) throw new Error('a bundle needs at least one event');
    return {
      count,
      tenantId: first.tenant_id,
      chainId: first.chain_id,
      fromSequence: first.sequence,
      toSequence: last.sequence,
      bundleHash: bundleHash.digest(),
      merkleRoot: merkleRoot.digest(),
      eventsDigest: await out.close(),
      ncpArtifacts,
    };
  } catch (error) {
    out.abort();
    throw error;
  } finally {
    await entries.close().catch(() => undefined);
  }
}
