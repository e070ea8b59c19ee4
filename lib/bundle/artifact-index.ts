/**
 * Matches the bundle's artifact files with the references to them (events' evidence
 * pointers, NCP artifact references, the manifest's `artifacts`) by the SHA-256 of each
 * file's exact bytes, in any order: an archive may bring the artifacts before or after the
 * events that point at them.
 *
 * Why this shape: a million artifacts and a million references do not fit the memory
 * budget as sets of strings (about 100 bytes each, twice), and the order of an archive is
 * not ours to choose. So both sides are written, as they come, into 256 partitions by the
 * first byte of the digest (held in memory while small, then on disk in the
 * verification's temporary directory: spill-partitions.ts), and joined at the end one
 * partition at a time: memory holds about 1/256 of the records. References to the same
 * digest are first gathered in a bounded map (the first few messages and a count), so a
 * pointer that a million events share is one record, not a million.
 */
import type { Findings, OrderKey } from './findings';
import { STEP, compareKeys } from './findings';
import { ARTIFACTS_DIR } from './bundle';
import { type SplitOptions, type SplitSizes, SpillPartitions, eachRecord, hexDigits } from './spill-partitions';
import type { TempSpace } from './temp-space';

const PARTITIONS = 256;
/** Distinct digests whose references are gathered before they are written out. */
const GATHERED_DIGESTS = 32;
/** Messages kept per gathered digest and check (as many as a check lists). */
const SAMPLES = 5;

export type ReferenceCheck = 'evidence-pointers' | 'ncp-artifacts';

/** A reference to an artifact, and the finding it makes when nothing matches it. */
export interface ArtifactReference {
  check: ReferenceCheck;
  key: OrderKey;
  message: string;
}

interface Gathered {
  digest: string;
  check: ReferenceCheck;
  count: number;
  samples: Array<[OrderKey, string]>;
}

interface ArtifactFile {
  name: string;
  key: OrderKey;
}

export interface ArtifactOutcome {
  /** Artifact files that nothing references (and second copies), in no particular order. */
  unreferenced: ArtifactFile[];
  /** `sha256:<hex>` of the artifact files asked for by name (`file_digests`). */
  digests: Map<string, string>;
}

const partitionOf = (digest: string): number => Number.parseInt(digest.slice(0, 2), 16);
const DIGEST_CHARS = 64;
const ARTIFACT = 0x61; // 'a'

/** A reference record after its digest: check, count, and the first messages with their keys. */
type GatheredRecord = [ReferenceCheck, number, Array<[OrderKey, string]>];

export class ArtifactIndex {
  private readonly spill: SpillPartitions;
  private gathered = new Map<string, Gathered>();

  /**
   * @param memoryBytes records held in memory before they go to disk (see SpillPartitions)
   * @param sizes of partitions joined whole and split in memory (see SpillPartitions; tests make them small)
   */
  constructor(space: TempSpace, memoryBytes?: number, sizes?: SplitSizes) {
    // The digest's first two digits made the partition; each split level takes the next six.
    const split: SplitOptions = { hash: (records, start, _end, level) => hexDigits(records, start + 3 + 6 * (level - 1)), ...sizes };
    this.spill = new SpillPartitions(space, 'artifacts', PARTITIONS, memoryBytes, split);
  }

  /** Whether the index went to disk. */
  get onDisk(): boolean {
    return this.spill.onDisk;
  }

  /** An artifact file whose bytes hash to `digest` (lowercase hex). */
  addArtifact(name: string, digest: string, key: OrderKey): void {
    this.spill.add(partitionOf(digest), `a${digest}${JSON.stringify([name, key])}`);
  }

  /** A reference to the artifact whose bytes hash to `digest` (lowercase hex). */
  addReference(digest: string, { check, key, message }: ArtifactReference): void {
    const id = `${check}:${digest}`;
    let entry = this.gathered.get(id);
    if (!entry) {
      if (this.gathered.size >= GATHERED_DIGESTS) this.writeGathered();
      entry = { digest, check, count: 0, samples: [] };
      this.gathered.set(id, entry);
    }
    entry.count += 1;
    if (entry.samples.length < SAMPLES) entry.samples.push([key, message]);
  }

  /**
   * Joins both sides: reports every reference that no artifact matches (at its own place
   * among the check's messages), every artifact that nothing references and every second
   * copy of an artifact; returns those files and the digests of the `named` artifact files.
   */
  finish(findings: Findings, named: ReadonlySet<string>): ArtifactOutcome {
    this.writeGathered();
    const outcome: ArtifactOutcome = { unreferenced: [], digests: new Map() };
    for (const records of this.spill.partitions()) this.joinPartition(records, findings, named, outcome);
    return outcome;
  }

  /**
   * One partition. Records start with their kind and digest (`a<hex>...`, `r<hex>...`): the
   * digests alone decide which artifacts are referenced; the rest of a record is parsed
   * only when it makes a finding or was asked for by name.
   */
  private joinPartition(records: Buffer, findings: Findings, named: ReadonlySet<string>, outcome: ArtifactOutcome): void {
    const first = new Map<string, number>();
    const copies = new Map<string, number[]>();
    const references: number[] = [];
    const parseNames = [...named].some((name) => name.startsWith(ARTIFACTS_DIR));
    eachRecord(records, (start, end) => {
      if (records[start] !== ARTIFACT) return void references.push(start, end);
      const digest = digestAt(records, start);
      const earlier = first.get(digest);
      if (earlier === undefined) first.set(digest, start);
      else if (copies.has(digest)) copies.get(digest)!.push(start);
      else copies.set(digest, [earlier, start]);
      if (parseNames) {
        const { name } = artifactAt(records, start);
        if (named.has(name)) outcome.digests.set(name, `sha256:${digest}`);
      }
    });
    const referenced = new Set<string>();
    for (let index = 0; index < references.length; index += 2) {
      const start = references[index]!;
      const digest = digestAt(records, start);
      if (first.has(digest)) {
        referenced.add(digest);
        continue;
      }
      const rest = records.toString('utf8', start + 1 + DIGEST_CHARS, references[index + 1]);
      const [check, count, samples] = JSON.parse(rest) as GatheredRecord;
      for (const [key, message] of samples) findings.fail(check, message, key);
      findings.failUnlisted(check, count - samples.length);
    }
    for (const [digest, start] of first) {
      const starts = copies.get(digest);
      if (!starts && referenced.has(digest)) continue;
      // The first file in the bundle's order is the artifact; any later one is a copy.
      const files = (starts ?? [start]).map((at) => artifactAt(records, at));
      const [kept, ...others] = files.sort((a, b) => compareKeys(a.key, b.key));
      if (!referenced.has(digest)) {
        findings.fail('evidence-pointers', `${kept!.name} is referenced by nothing`, [STEP.unreferencedArtifacts, 0, ...kept!.key]);
        outcome.unreferenced.push(kept!);
      }
      for (const copy of others) {
        findings.fail('evidence-pointers', `${copy.name} duplicates another artifact`, [STEP.unreferencedArtifacts, 1, ...copy.key]);
        outcome.unreferenced.push(copy);
      }
    }
  }

  private writeGathered(): void {
    for (const { digest, check, count, samples } of this.gathered.values()) {
      this.spill.add(partitionOf(digest), `r${digest}${JSON.stringify([check, count, samples] satisfies GatheredRecord)}`);
    }
    // A fresh map, not `clear()`: V8 keeps a cleared map's old entries reachable long enough
    // to promote them to the old generation, which then grows until a full collection.
    this.gathered = new Map();
  }
}

/** The digest of the record at `start` (after its one-letter kind). */
function digestAt(records: Buffer, start: number): string {
  return records.toString('latin1', start + 1, start + 1 + DIGEST_CHARS);
}

/** The artifact record at `start`. */
function artifactAt(records: Buffer, start: number): ArtifactFile {
  const end = records.indexOf(0x0a, start);
  const [name, key] = JSON.parse(records.toString('utf8', start + 1 + DIGEST_CHARS, end)) as [string, OrderKey];
  return { name, key };
}
