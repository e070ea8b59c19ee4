/**
 * Plans a bundle in one pass over its events without writing any file: checks the chain
 * (the ledger's `ChainVerifier`), every artifact against its pointer, the profile and the
 * range, and computes what the manifest needs (sizes and digests of events.jsonl and
 * chain-segment.json, bundle hash, Merkle root, NCP artifacts). The small documents are
 * rendered and the manifest signed. The plan is all that must be kept to stream the same
 * bundle again, byte for byte, from the same (immutable) events: see stream-bundle.ts.
 *
 * Memory stays flat: running hashes, one batch of events, the NCP references.
 */
import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import type { JsonObject } from '../evidence/canonical-json';
import { ChainVerifier } from '../evidence/chain-verifier';
import { detachPayload } from '../keys/verify-jws';
import { BUNDLE_FILES, DEFAULT_LIMITS, MANIFEST_SIGNATURE_TYP, SIGNATURE_FILES } from './bundle';
import { listManifestArtifacts, manifest as buildManifest, profileClaim, verifierInputs } from './write-documents';
import type { Producer } from './write-documents';
import { artifactFileName, checkedArtifact, ncpReference } from './bundle-source';
import type { BundleScope, BundleSource, SourceEvent } from './bundle-source';
import { JOINED_HASH_METHOD, MERKLE_ROOT_METHOD, accumulatorFor } from './hash-methods';
import { prettyCanonicalJson } from './pretty-json';
import { NCP_EVENT_TYPES, NCP_PROFILE, ncpCategory, profileRules } from './profiles';
import { segmentEntryLine, segmentEntryText, segmentHead, segmentTail } from './segment-text';

/** A streamed file's length and digest, as the plan pass measured it. */
export interface MeasuredFile {
  size: number;
  digest: string;
}

/** Everything needed to stream the bundle again; JSON-serialisable. */
export interface BundlePlan {
  scope: BundleScope;
  events: MeasuredFile & { count: number };
  segment: MeasuredFile;
  bundleHash: string;
  merkleRoot: string;
  /** The small files, in archive order (manifest.json first), with their exact text. */
  documents: Array<{ name: string; text: string }>;
  /** Artifacts listed in the manifest beyond the events' own (NCP references excepted), in archive order. */
  extraArtifacts: string[];
  /** Evidence pointers used by more than one event of the range, with the first sequence using each. */
  repeatedPointers: Array<[string, number]>;
}

/** Signs like the service's `SigningKeys` (lib/keys/signing-keys.ts), which fits as is. */
export interface BundleSigner {
  readonly kid: string;
  readonly jwks: { keys: JWK[] };
  sign(payload: Uint8Array, typ: string): Promise<string>;
}

export interface PlanBundleInput {
  source: BundleSource;
  scope: BundleScope;
  producer: Producer;
  signer?: BundleSigner;
  exportId: string;
  createdAt: Date;
  /**
   * Further artifacts listed in the manifest, by category (`policy_snapshots`, ...); a
   * function is called after the event pass (e.g. with what `onBatch` collected).
   */
  manifestArtifacts?: Record<string, readonly string[]> | (() => Promise<Record<string, readonly string[]>>);
  /** Evidence pointers used by more than one event of the range (pointer -> first sequence). */
  repeatedPointers: ReadonlyMap<string, number>;
  /** @default ['/v1/events', '/v1/exports'] */
  exportEndpoints?: readonly string[];
  /** Called after every batch (to collect facts, record progress); may throw to stop. */
  onBatch?(batch: readonly SourceEvent[], eventsDone: number): Promise<void>;
}

class Measure {
  private readonly hash = createHash('sha256');
  size = 0;

  add(text: string): void {
    this.hash.update(text);
    this.size += Buffer.byteLength(text);
  }

  result(): MeasuredFile {
    return { size: this.size, digest: `sha256:${this.hash.digest('hex')}` };
  }
}

const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** Bytes an archive entry takes: header and content padded to whole 512-byte blocks. */
const entryBytes = (size: number): number => 512 + Math.ceil(size / 512) * 512;

/** Checks the artifacts one batch references (evidence pointers, NCP refs); returns their archive bytes. */
async function checkBatchArtifacts(source: BundleSource, events: readonly SourceEvent[]): Promise<number> {
  const pointers = new Set<string>();
  for (const { event } of events) {
    pointers.add(event.evidence_pointer);
    const ncp = ncpReference(event);
    if (ncp) pointers.add(ncp.ref);
  }
  const artifacts = await source.artifacts([...pointers]);
  let bytes = 0;
  for (const pointer of pointers) bytes += entryBytes(checkedArtifact(pointer, artifacts).length);
  return bytes;
}

/** A writer must never produce a bundle the verifier refuses to read: check its default limits. */
function assertReadable(events: MeasuredFile, segment: MeasuredFile, unpackedBytes: number): void {
  for (const [name, file] of [
    [BUNDLE_FILES.events, events],
    [BUNDLE_FILES.segment, segment],
  ] as const) {
    if (file.size > DEFAULT_LIMITS.maxFileBytes)
      throw new Error(`${name} would be ${file.size} bytes, over the verifier's ${DEFAULT_LIMITS.maxFileBytes}: export a smaller range`);
  }
  if (unpackedBytes > DEFAULT_LIMITS.maxTotalBytes) {
    throw new Error(
      `the bundle would unpack to about ${unpackedBytes} bytes, over the verifier's ${DEFAULT_LIMITS.maxTotalBytes}: export a smaller range`,
    );
  }
}

/** Pointers with distinct artifact files, leaving out files already named in `taken`. */
function uniqueFiles(pointers: readonly string[], taken: Set<string>): string[] {
  return pointers.filter((pointer) => {
    const name = artifactFileName(pointer);
    if (taken.has(name)) return false;
    taken.add(name);
    return true;
  });
}

export async function planBundle(input: PlanBundleInput): Promise<BundlePlan> {
  const { scope, source } = input;
  if (!profileRules(scope.profileId)) throw new Error(`unknown evidence profile ${scope.profileId}`);
  const chain = new ChainVerifier();
  const [eventsFile, segmentFile] = [new Measure(), new Measure()];
  const [bundleHash, merkleRoot] = [accumulatorFor(JOINED_HASH_METHOD)!, accumulatorFor(MERKLE_ROOT_METHOD)!];
  const ncpArtifacts = new Map<string, Set<string>>();
  let count = 0;
  let artifactBytes = 0;
  segmentFile.add(segmentHead(scope));
  for await (const batch of source.events()) {
    for (const { text, event } of batch) {
      const expected = scope.fromSequence + count;
      if (event.sequence !== expected) throw new Error(`expected sequence ${expected}, got ${String(event.sequence)}`);
      if (event.tenant_id !== scope.tenantId || event.chain_id !== scope.chainId)
        throw new Error(`event ${expected} is not of ${scope.chainId}`);
      if (event.evidence_profile_id !== undefined && event.evidence_profile_id !== scope.profileId) {
        throw new Error(`event ${expected} declares profile ${String(event.evidence_profile_id)}, not ${scope.profileId}`);
      }
      if (!(count === 0 ? chain.anchor(text) : chain.push(text))) {
        throw new Error(`event ${expected} does not continue the chain: ${chain.failure?.reason ?? ''}`);
      }
      const ncp = ncpReference(event);
      if ((ncp || NCP_EVENT_TYPES.has(event.event_type)) && scope.profileId !== NCP_PROFILE) {
        throw new Error(`event ${expected} is a No-Control Profile declaration: export it with ${NCP_PROFILE}`);
      }
      if (ncp) {
        const category = ncpCategory(ncp.type);
        ncpArtifacts.set(category, (ncpArtifacts.get(category) ?? new Set()).add(ncp.ref));
      }
      eventsFile.add(`${text}\n`);
      segmentFile.add(segmentEntryText(segmentEntryLine(event, scope.profileId), count === 0));
      bundleHash.push(event.event_hash);
      merkleRoot.push(event.event_hash);
      count += 1;
    }
    artifactBytes += await checkBatchArtifacts(source, batch);
    await input.onBatch?.(batch, count);
  }
  if (count !== scope.toSequence - scope.fromSequence + 1) {
    throw new Error(`expected events ${scope.fromSequence}..${scope.toSequence}, read ${count}`);
  }
  const facts = { bundleHash: bundleHash.digest(), merkleRoot: merkleRoot.digest() };
  segmentFile.add(segmentTail(facts));

  const extra = typeof input.manifestArtifacts === 'function' ? await input.manifestArtifacts() : (input.manifestArtifacts ?? {});
  const extraArtifacts = uniqueFiles(
    Object.values(extra).flat(),
    new Set([...ncpArtifacts.values()].flatMap((refs) => [...refs].map(artifactFileName))),
  );
  const extraBytes = await source.artifacts(extraArtifacts);
  for (const ref of extraArtifacts) checkedArtifact(ref, extraBytes);

  const events = { ...eventsFile.result(), count };
  const segment = segmentFile.result();
  // (artifacts shared by several events are counted once per batch: an over-estimate)
  assertReadable(events, segment, entryBytes(events.size) + entryBytes(segment.size) + artifactBytes);
  const segmentFacts = { ...scope, ...facts, chainSegmentRef: `eosc://evidence/chain/${segment.digest}` };
  const small: Array<{ name: string; text: string }> = [
    { name: BUNDLE_FILES.verifierInputs, text: prettyCanonicalJson(verifierInputs(scope.profileId, input.producer, segmentFacts)) },
    {
      name: BUNDLE_FILES.profileClaim,
      text: prettyCanonicalJson(profileClaim(scope.profileId, input.producer, input.exportEndpoints ?? ['/v1/events', '/v1/exports'])),
    },
  ];
  if (input.signer) small.push({ name: BUNDLE_FILES.jwks, text: prettyCanonicalJson({ keys: input.signer.jwks.keys as JsonObject[] }) });
  const fileDigests: Record<string, string> = { [BUNDLE_FILES.events]: events.digest, [BUNDLE_FILES.segment]: segment.digest };
  for (const { name, text } of small) fileDigests[name] = digestOf(text);
  const signatureFile = SIGNATURE_FILES[0];
  const manifestText = prettyCanonicalJson(
    buildManifest({
      profileId: scope.profileId,
      producer: input.producer,
      facts: segmentFacts,
      exportId: input.exportId,
      createdAt: input.createdAt.toISOString(),
      artifacts: listManifestArtifacts(ncpArtifacts, extra),
      fileDigests,
      ...(input.signer ? { signature: { kid: input.signer.kid, file: signatureFile } } : {}),
    }),
  );
  const documents: Array<{ name: string; text: string }> = [{ name: BUNDLE_FILES.manifest, text: manifestText }];
  if (input.signer) {
    const jws = await input.signer.sign(Buffer.from(manifestText, 'utf8'), MANIFEST_SIGNATURE_TYP);
    documents.push({ name: signatureFile, text: detachPayload(jws) });
  }
  return {
    scope,
    events,
    segment,
    ...facts,
    documents: [...documents, ...small],
    extraArtifacts,
    repeatedPointers: [...input.repeatedPointers],
  };
}
