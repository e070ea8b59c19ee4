/**
 * The one pass over a bundle's files, in whatever order they come: the small documents
 * are parsed, chain-segment.json is read as a stream (segment-reader.ts), artifacts are
 * hashed into the artifact index, every other file is hashed, and events.jsonl goes
 * through the event pass as it streams by. The pass needs the manifest, the verifier
 * inputs and the segment first; when the bundle brings events.jsonl before them, it is
 * spooled to the temporary directory and checked once the bundle has been read. Memory
 * holds the documents, one chunk, and the current line.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { ArtifactIndex } from './artifact-index';
import { ARTIFACTS_DIR, BUNDLE_FILES, SIGNATURE_FILES, readEntry } from './bundle';
import type { BundleEntry, ReadLimits } from './bundle';
import { checkLayoutFile, checkRequiredFiles } from './check-documents';
import { checkEvents } from './check-events';
import type { EventObserver, EventPass } from './check-events';
import { STEP } from './findings';
import type { Findings, OrderKey } from './findings';
import { DOCUMENT_FILES, int, obj, parseObject } from './read-documents';
import type { BundleDocuments } from './read-documents';
import { SegmentReader } from './segment-reader';
import { Spool } from './spool';
import type { TempSpace } from './temp-space';
import type { ProgressReport } from './verify-progress';

export interface CollectContext {
  findings: Findings;
  artifacts: ArtifactIndex;
  space: TempSpace;
  limits: ReadLimits;
  progress: ProgressReport;
  /** Shown each event of the event pass (check-events.ts). */
  onEvent?: EventObserver;
}

export interface CollectedBundle {
  documents: BundleDocuments;
  pass: EventPass;
  fileCount: number;
  /** Every file but the artifacts: where it stands in the bundle, and `sha256:<hex>` of its bytes. */
  files: Map<string, { key: OrderKey; digest: string }>;
}

const SIGNATURES: ReadonlySet<string> = new Set(SIGNATURE_FILES);

/**
 * The chunks of a file, hashed as they pass. Read to the end even when the consumer stops
 * early (a line over the limit still leaves a digest to compare); a failure to read the
 * file itself is kept in `failure`, for the caller to raise, rather than taken for a bad line.
 */
class HashedChunks {
  readonly hash: Hash = createHash('sha256');
  failure: unknown;

  constructor(private readonly source: AsyncIterable<Buffer>) {}

  async *chunks(): AsyncGenerator<Buffer> {
    const iterator = this.source[Symbol.asyncIterator]();
    let ended = false;
    try {
      for (;;) {
        const next = await this.read(iterator);
        if (!next || next.done) break;
        yield next.value;
      }
      ended = true;
    } finally {
      while (!ended) {
        const next = await this.read(iterator);
        ended = !next || next.done === true;
      }
    }
  }

  private async read(iterator: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer> | undefined> {
    if (this.failure !== undefined) return undefined;
    try {
      const next = await iterator.next();
      if (!next.done) this.hash.update(next.value);
      return next;
    } catch (error) {
      this.failure = error;
      return undefined;
    }
  }
}

/** The hex SHA-256 of an entry's content: given by its reader, or computed. */
async function hexDigest(entry: BundleEntry): Promise<string> {
  if (entry.digest !== undefined) return entry.digest;
  const hash = createHash('sha256');
  for await (const chunk of entry.chunks()) hash.update(chunk);
  return hash.digest('hex');
}

export class BundleCollector {
  private readonly documents: BundleDocuments = { signatures: new Map() };
  private readonly seen = new Set<string>();
  private readonly files = new Map<string, { key: OrderKey; digest: string }>();
  private fileCount = 0;
  private segmentRead = false;
  private pass: EventPass | undefined;
  private spooledEvents: Spool | undefined;

  constructor(private readonly context: CollectContext) {}

  async add(entry: BundleEntry): Promise<void> {
    const { findings, progress } = this.context;
    this.fileCount += 1;
    progress.file(entry);
    checkLayoutFile(entry.name, entry.key, findings);
    if (entry.name.startsWith(ARTIFACTS_DIR)) return this.addArtifact(entry);
    this.seen.add(entry.name);
    if (entry.name === BUNDLE_FILES.segment) return this.readSegment(entry);
    if (entry.name === BUNDLE_FILES.events) return this.readEvents(entry);
    if ((DOCUMENT_FILES as readonly string[]).includes(entry.name) || SIGNATURES.has(entry.name)) return this.readDocument(entry);
    this.files.set(entry.name, { key: entry.key, digest: `sha256:${await hexDigest(entry)}` });
  }

  /** After the last file: missing files reported, the event pass run if it could not run before. */
  async finish(): Promise<CollectedBundle> {
    const { findings } = this.context;
    checkRequiredFiles(this.seen, findings);
    if (!this.pass) {
      this.spooledEvents?.close();
      this.pass = await this.checkEvents(this.spooledEvents?.chunks());
    }
    return { documents: this.documents, pass: this.pass, fileCount: this.fileCount, files: this.files };
  }

  private async addArtifact(entry: BundleEntry): Promise<void> {
    this.context.artifacts.addArtifact(entry.name, await hexDigest(entry), entry.key);
  }

  private async readDocument(entry: BundleEntry): Promise<void> {
    const bytes = await readEntry(entry);
    this.files.set(entry.name, { key: entry.key, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` });
    if (SIGNATURES.has(entry.name)) {
      this.documents.signatures.set(entry.name, bytes);
      return;
    }
    const key = [STEP.documents, DOCUMENT_FILES.indexOf(entry.name as (typeof DOCUMENT_FILES)[number])];
    const object = parseObject(bytes, entry.name, this.context.findings, 'files', key);
    if (entry.name === BUNDLE_FILES.manifest) {
      this.documents.manifest = object;
      this.documents.manifestBytes = bytes;
      const scope = obj(object, 'scope');
      const [from, to] = [int(scope, 'from_sequence'), int(scope, 'to_sequence')];
      if (from !== undefined && to !== undefined && to >= from) this.context.progress.expect(to - from + 1);
    } else if (entry.name === BUNDLE_FILES.verifierInputs) this.documents.verifierInputs = object;
    else if (entry.name === BUNDLE_FILES.profileClaim) this.documents.profileClaim = object;
    else this.documents.jwks = object;
  }

  private async readSegment(entry: BundleEntry): Promise<void> {
    const reader = new SegmentReader(this.context.space, this.context.limits.maxLineBytes);
    for await (const chunk of entry.chunks()) reader.write(chunk);
    const segment = reader.end(this.context.findings, [STEP.documents, DOCUMENT_FILES.indexOf(BUNDLE_FILES.segment)]);
    this.documents.segment = segment.object;
    this.documents.segmentEntries = segment.entries;
    this.documents.segmentDigest = segment.digest;
    this.files.set(entry.name, { key: entry.key, digest: segment.digest });
    this.segmentRead = true;
  }

  /** The event pass now if what it needs has been read, else events.jsonl put aside. */
  private async readEvents(entry: BundleEntry): Promise<void> {
    const hashed = new HashedChunks(entry.chunks());
    const ready = this.segmentRead && this.seen.has(BUNDLE_FILES.manifest) && this.seen.has(BUNDLE_FILES.verifierInputs);
    if (ready) {
      this.pass = await this.checkEvents(hashed.chunks());
    } else {
      this.spooledEvents = new Spool(this.context.space, 'events');
      for await (const chunk of hashed.chunks()) this.spooledEvents.write(chunk);
    }
    this.keep(entry, hashed);
  }

  private async checkEvents(events: AsyncIterable<Buffer> | undefined): Promise<EventPass> {
    const { findings, artifacts, limits, progress, onEvent } = this.context;
    progress.stage('events');
    const pass = await checkEvents(events, this.documents, artifacts, findings, limits, (count) => progress.events(count), onEvent);
    progress.stage('reading');
    return pass;
  }

  /** Records a hashed file, or raises the failure that kept it from being read. */
  private keep(entry: BundleEntry, hashed: HashedChunks): void {
    if (hashed.failure !== undefined) throw hashed.failure;
    this.files.set(entry.name, { key: entry.key, digest: `sha256:${hashed.hash.digest('hex')}` });
  }
}
