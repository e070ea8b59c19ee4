/**
 * Streams a planned bundle as a tar archive (POSIX ustar headers of tar-header.ts)
 * straight from its source: the small documents from the plan, then chain-segment.json and
 * events.jsonl regenerated from the events (their sizes come from the plan, so each header
 * is written before its content), then every artifact in event order. Nothing is spooled;
 * memory holds one batch. Each regenerated file is hashed on the way and must equal the
 * plan's digest (the manifest's `file_digests`): if the events changed since the plan, the
 * stream fails instead of serving a bundle that contradicts its signed manifest.
 *
 * Archive order: manifest.json, manifest.sig, verifier-inputs.json, profile-claim.json,
 * jwks.json, chain-segment.json, events.jsonl, artifacts/* (the reader accepts any order).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { BUNDLE_FILES } from './bundle';
import { artifactFileName, checkedArtifact, ncpReference } from './bundle-source';
import type { BundleSource, SourceEvent } from './bundle-source';
import type { BundlePlan, MeasuredFile } from './plan-bundle';
import { segmentEntryLine, segmentEntryText, segmentHead, segmentTail } from './segment-text';
import { TAR_BLOCK, tarHeader } from './tar-header';

const padding = (size: number): Buffer => Buffer.alloc((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK);

/** The whole entry of a file held in memory. */
function* smallFile(name: string, bytes: Buffer): Generator<Buffer> {
  yield tarHeader(name, bytes.length);
  yield bytes;
  const pad = padding(bytes.length);
  if (pad.length) yield pad;
}

/** An entry whose content is generated; checked against the planned size and digest. */
async function* plannedFile(name: string, planned: MeasuredFile, content: AsyncIterable<string>): AsyncGenerator<Buffer> {
  yield tarHeader(name, planned.size);
  const hash = createHash('sha256');
  let size = 0;
  for await (const text of content) {
    const bytes = Buffer.from(text, 'utf8');
    size += bytes.length;
    if (size > planned.size) throw new Error(`${name} is longer than planned: the events changed`);
    hash.update(bytes);
    yield bytes;
  }
  if (size !== planned.size || `sha256:${hash.digest('hex')}` !== planned.digest) {
    throw new Error(`${name} differs from its planned digest: the events changed`);
  }
  const pad = padding(size);
  if (pad.length) yield pad;
}

async function* segmentText(plan: BundlePlan, source: BundleSource): AsyncGenerator<string> {
  yield segmentHead(plan.scope);
  let first = true;
  for await (const batch of source.events()) {
    let text = '';
    for (const { event } of batch) {
      text += segmentEntryText(segmentEntryLine(event, plan.scope.profileId), first);
      first = false;
    }
    yield text;
  }
  yield segmentTail(plan);
}

async function* eventsText(source: BundleSource): AsyncGenerator<string> {
  for await (const batch of source.events()) yield batch.map(({ text }) => `${text}\n`).join('');
}

/** Artifact pointers of one batch, first use only (repeated evidence pointers and NCP refs once). */
function batchPointers(batch: readonly SourceEvent[], repeated: ReadonlyMap<string, number>, emitted: Set<string>): string[] {
  const pointers: string[] = [];
  for (const { event } of batch) {
    const firstUse = repeated.get(event.evidence_pointer);
    if (firstUse === undefined || firstUse === event.sequence) pointers.push(event.evidence_pointer);
    const ncp = ncpReference(event);
    if (ncp && !emitted.has(artifactFileName(ncp.ref))) {
      emitted.add(artifactFileName(ncp.ref));
      pointers.push(ncp.ref);
    }
  }
  return pointers;
}

async function* artifactEntries(plan: BundlePlan, source: BundleSource): AsyncGenerator<Buffer> {
  const repeated = new Map(plan.repeatedPointers);
  const emitted = new Set<string>();
  const emit = async function* (pointers: readonly string[]): AsyncGenerator<Buffer> {
    const artifacts = await source.artifacts(pointers);
    for (const pointer of pointers) yield* smallFile(artifactFileName(pointer), Buffer.from(checkedArtifact(pointer, artifacts)));
  };
  for await (const batch of source.events()) yield* emit(batchPointers(batch, repeated, emitted));
  yield* emit(plan.extraArtifacts);
}

/** The bundle as an uncompressed tar stream. */
export async function* bundleTarStream(plan: BundlePlan, source: BundleSource): AsyncGenerator<Buffer> {
  for (const { name, text } of plan.documents) yield* smallFile(name, Buffer.from(text, 'utf8'));
  yield* plannedFile(BUNDLE_FILES.segment, plan.segment, segmentText(plan, source));
  yield* plannedFile(BUNDLE_FILES.events, plan.events, eventsText(source));
  yield* artifactEntries(plan, source);
  yield Buffer.alloc(TAR_BLOCK * 2);
}

/** Joins small pieces (tar headers, padding, small artifacts) into chunks of about `size` bytes. */
async function* coalesced(pieces: AsyncIterable<Buffer>, size = 256 * 1024): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const piece of pieces) {
    pending.push(piece);
    length += piece.length;
    if (length >= size) {
      yield Buffer.concat(pending, length);
      pending = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}

/** The bundle as a `.tar.gz` readable stream (errors of the source destroy it). */
export function bundleTarGzStream(plan: BundlePlan, source: BundleSource): NodeJS.ReadableStream {
  const gzip = createGzip();
  const tar = Readable.from(coalesced(bundleTarStream(plan, source)));
  tar.on('error', (error) => gzip.destroy(error));
  return tar.pipe(gzip);
}
