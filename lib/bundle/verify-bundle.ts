/**
 * Verifies an evidence bundle offline, per `docs/evidence/verifier-responsibilities.md`
 * and the golden bundles: runs every check of docs/verify.md and returns them all (never
 * stops at the first failure, never throws for a bad bundle). A bundle is valid when every
 * check is ok; checks may pass with a warning (unsigned, key from the bundle itself, files
 * bound by no hash).
 *
 * One pass over the files, directory or `.tar.gz` alike, in the order they come
 * (collect-bundle.ts), with memory that does not grow with the chain: the segment's
 * entries and, when the archive brings it too early, events.jsonl are spooled to a
 * temporary directory; artifacts and the references to them are matched through an index
 * partitioned on disk (artifact-index.ts). Messages keep the order of the checks whatever
 * the order of the files (findings.ts).
 */
import { lstat } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import { ArtifactIndex } from './artifact-index';
import { BUNDLE_FILES, BundleReadError, DEFAULT_LIMITS } from './bundle';
import type { Bundle, BundleEntry, ReadLimits } from './bundle';
import { directoryEntries, memoryEntries } from './bundle-entries';
import { checkManifestArtifacts } from './check-artifacts';
import {
  checkFileDigests,
  checkHashMethods,
  checkManifestFields,
  checkProfileDeclarations,
  checkScopeDeclarations,
  checkSegmentRef,
  fileDigestNames,
} from './check-documents';
import type { EventObserver, EventPass } from './check-events';
import { checkDeclaredHashes, checkScope } from './check-hashes';
import { checkSignature } from './check-signature';
import { BundleCollector } from './collect-bundle';
import type { CollectedBundle } from './collect-bundle';
import { Findings, STEP, compareKeys } from './findings';
import type { BundleCheck, OrderKey } from './findings';
import type { BundleDocuments } from './read-documents';
import { readTarEntries } from './tar-reader';
import { TempSpace } from './temp-space';
import { ProgressReport } from './verify-progress';
import type { ProgressListener } from './verify-progress';

export type { EventObserver } from './check-events';
export type { BundleCheck } from './findings';
export type { ProgressListener, VerifyProgress } from './verify-progress';

export interface VerifyOptions {
  /** Trusted public keys for the manifest signature (instead of the bundle's jwks.json). */
  jwks?: JSONWebKeySet;
  /** Fail, instead of warn, when some file is bound by no hash or signature. @default false */
  requireFullCoverage?: boolean;
  limits?: Partial<ReadLimits>;
  /** Told how far the verification has gone (every thousand files or events). */
  onProgress?: ProgressListener;
  /** Shown each event as the event pass reads it (to gather a few facts of the chain in the same pass). */
  onEvent?: EventObserver;
}

export interface VerifyResult {
  ok: boolean;
  checks: BundleCheck[];
  /** Number of events checked. */
  events: number;
}

/**
 * Every file must be bound by something checked: a digest, a pointer, the event hashes, or
 * the signature. A signed bundle (or `requireFullCoverage`) fails otherwise; an unsigned
 * one, like the golden bundles, passes with a warning naming the loose files.
 */
function coverage(loose: string[], fileCount: number, signed: boolean, options: VerifyOptions): BundleCheck {
  if (loose.length === 0)
    return { name: 'coverage', ok: true, detail: `every file is bound by a hash or the signature (${fileCount} files)` };
  const detail = `bound by no hash or signature: ${loose.join(', ')} (only their cross-checked fields are verified)`;
  return signed || options.requireFullCoverage
    ? { name: 'coverage', ok: false, detail }
    : { name: 'coverage', ok: true, detail, warning: true };
}

function summary(pass: EventPass, documents: BundleDocuments): Record<string, string> {
  const merkle = documents.manifest?.merkle_root !== undefined || documents.segment?.merkle_root !== undefined;
  return {
    files: 'required files present, nothing unexpected',
    'manifest-fields': 'every export-schema field present',
    'profile-id': 'one evidence_profile_id throughout',
    'self-description': 'profile_version, producer_identity, verifier_expectations_ref agree',
    'hash-methods': 'declared methods are supported',
    scope: `events ${String(pass.firstSequence)}..${String(pass.lastSequence)} of ${String(pass.chainId)} as declared`,
    tenant: 'one tenant throughout',
    'event-hashes': `${pass.count} events in canonical form with matching event_hash`,
    'chain-continuity': 'sequence and prev_hash continuous from the segment start',
    segment: 'chain-segment.json lists exactly these events',
    'segment-hash': 'segment_hash recomputed',
    'bundle-hash': 'bundle_hash recomputed',
    'merkle-root': merkle ? 'RFC 9162 merkle_root recomputed' : 'no merkle_root declared (optional)',
    'chain-segment-ref': 'chain_segment_ref is the hash of chain-segment.json',
    'file-digests':
      documents.manifest?.file_digests !== undefined ? 'every file_digests entry matches' : 'no file_digests declared (optional)',
    envelope: "every event carries its profile's envelope fields",
    refusals: `${pass.refused} refused events carry their refusal fields`,
    'evidence-pointers': 'every pointer resolves to an artifact with that hash',
    'ncp-artifacts': `${pass.ncpDeclarations} NCP declarations reference matching artifacts`,
  };
}

function unreadable(error: unknown): VerifyResult {
  const detail = error instanceof BundleReadError ? error.message : `cannot be checked: ${(error as Error).message}`;
  return { ok: false, checks: [{ name: 'readable', ok: false, detail }], events: 0 };
}

/** Verifies the files of a bundle as they come; a failure to read one is a failed `readable` check. */
async function verifyEntries(entries: (space: TempSpace) => AsyncIterable<BundleEntry>, options: VerifyOptions): Promise<VerifyResult> {
  const space = new TempSpace();
  try {
    return await runChecks(entries(space), space, options);
  } catch (error) {
    return unreadable(error);
  } finally {
    await space.remove();
  }
}

async function runChecks(entries: AsyncIterable<BundleEntry>, space: TempSpace, options: VerifyOptions): Promise<VerifyResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const findings = new Findings();
  const artifacts = new ArtifactIndex(space);
  const progress = new ProgressReport(options.onProgress);
  const collector = new BundleCollector({
    findings,
    artifacts,
    space,
    limits,
    progress,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  for await (const entry of entries) await collector.add(entry);
  const collected = await collector.finish();
  const { documents, pass } = collected;
  findings.startStep(STEP.manifestFields);
  checkManifestFields(documents, findings);
  findings.startStep(STEP.profiles);
  checkProfileDeclarations(documents, findings);
  findings.startStep(STEP.hashMethods);
  checkHashMethods(documents, findings);
  findings.startStep(STEP.scopeDeclarations);
  checkScopeDeclarations(documents, findings);
  findings.startStep(STEP.declaredHashes);
  checkDeclaredHashes(documents, pass, findings);
  findings.startStep(STEP.scope);
  checkScope(documents, pass, findings);
  const covered = new Set<string>([BUNDLE_FILES.events]);
  findings.startStep(STEP.segmentRef);
  if (checkSegmentRef(documents, findings)) covered.add(BUNDLE_FILES.segment);

  progress.stage('artifacts');
  checkManifestArtifacts(documents, artifacts, findings);
  const named = fileDigestNames(documents);
  const matched = artifacts.finish(findings, named);
  findings.startStep(STEP.fileDigests);
  const digestOf = (name: string): string | undefined => collected.files.get(name)?.digest ?? matched.digests.get(name);
  for (const name of checkFileDigests(documents, digestOf, findings)) covered.add(name);

  findings.startStep(STEP.signature);
  const signature = await checkSignature(documents, findings, options.jwks);
  for (const name of signature.covered) covered.add(name);
  const loose = looseFiles(collected, matched.unreferenced, covered);
  const checks = [
    ...Object.entries(summary(pass, documents)).map(([name, detail]) => findings.check(name, detail)),
    findings.check('signature', signature.detail),
    coverage(loose, collected.fileCount, documents.signatures.size > 0, options),
  ];
  return { ok: checks.every((check) => check.ok), checks, events: pass.count };
}

/**
 * Files bound by nothing, in the bundle's order: documents and other files not covered,
 * and artifact files that nothing references (every referenced one is bound by its pointer).
 */
function looseFiles(collected: CollectedBundle, unreferenced: Array<{ name: string; key: OrderKey }>, covered: Set<string>): string[] {
  const loose = [...collected.files].filter(([name]) => !covered.has(name)).map(([name, { key }]) => ({ name, key }));
  for (const file of unreferenced) if (!covered.has(file.name)) loose.push(file);
  return loose.sort((a, b) => compareKeys(a.key, b.key)).map(({ name }) => name);
}

/** Verifies a bundle already read into a map (tests, tools). */
export async function verifyBundle(bundle: Bundle, options: VerifyOptions = {}): Promise<VerifyResult> {
  return verifyEntries(() => memoryEntries(bundle), options);
}

/**
 * Reads and verifies a bundle directory or `.tar.gz`/`.tgz` in one pass; an unreadable
 * bundle is one failed `readable` check, not an exception.
 */
export async function verifyBundlePath(source: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  try {
    const stat = await lstat(source).catch((error: NodeJS.ErrnoException) => {
      throw new BundleReadError(`cannot read ${source}: ${error.code ?? String(error)}`);
    });
    if (stat.isDirectory()) return await verifyEntries((space) => directoryEntries(source, limits, space), options);
    if (!stat.isFile()) throw new BundleReadError(`${source} is neither a directory nor a file`);
    if (stat.size > limits.maxTotalBytes) throw new BundleReadError(`${source} is larger than ${limits.maxTotalBytes} bytes`);
    return await verifyEntries((space) => readTarEntries(source, limits, space), options);
  } catch (error) {
    return unreadable(error);
  }
}
