/**
 * Writes an evidence bundle in the golden layout (manifest.json, chain-segment.json,
 * events.jsonl, verifier-inputs.json, profile-claim.json, artifacts/, plus jwks.json and a
 * detached manifest signature `manifest.sig` when a signer is given) to a directory or as
 * a `.tar.gz` stream. Two passes: events stream to disk first (see write-events.ts), then
 * the segment is streamed from a spool file and the small documents are written.
 *
 * Beyond the golden manifest it records `merkle_root` (RFC 9162 over the event digests),
 * `hash_profile_id`, and `file_digests` (SHA-256 of every top-level file), so that the
 * signature over manifest.json binds every byte of the bundle.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import type { EvidenceEvent } from '../../../lib/evidence/evidence-event';
import { detachPayload } from '../../../lib/keys/verify-jws';
import { ARTIFACTS_DIR, BUNDLE_FILES, MANIFEST_SIGNATURE_TYP } from '../../../lib/bundle/bundle';
import { listManifestArtifacts, manifest as buildManifest, profileClaim, verifierInputs } from '../../../lib/bundle/write-documents';
import type { Producer, SegmentFacts } from '../../../lib/bundle/write-documents';
import { HashingWriter } from './hashing-writer';
import { prettyCanonicalJson } from '../../../lib/bundle/pretty-json';
import { profileRules } from '../../../lib/bundle/profiles';
import { packDirectory } from './pack-directory';
import type { BundleSigner } from '../../../lib/bundle/plan-bundle';
import { ArtifactWriter, writeEvents } from './write-events';
import type { ArtifactSource, EventFacts } from './write-events';
import { writeSegment } from './write-segment';

export type { ArtifactSource } from './write-events';
export type { Producer } from '../../../lib/bundle/write-documents';

export interface WriteBundleInput {
  /** The events of one chain, in sequence order, as the ledger stores them. */
  events: AsyncIterable<EvidenceEvent> | Iterable<EvidenceEvent>;
  /** Artifact bytes by pointer: every event's evidence_pointer, NCP artifact_ref, manifestArtifacts. */
  artifacts: ArtifactSource;
  /** Further artifacts listed in the manifest, by category (`policy_snapshots`, ...). */
  manifestArtifacts?: Record<string, readonly string[]>;
  profileId: string;
  producer: Producer;
  signer?: BundleSigner;
  /** @default `exp-<uuid>` */
  exportId?: string;
  /** @default now */
  createdAt?: Date;
  /** @default ['/v1/events', '/v1/exports'] */
  exportEndpoints?: readonly string[];
}

export interface WrittenBundle {
  manifest: JsonObject;
  events: number;
}

const SIGNATURE_FILE = 'manifest.sig';

async function writeJson(dir: string, name: string, value: JsonObject): Promise<string> {
  const writer = new HashingWriter(path.join(dir, name));
  await writer.write(prettyCanonicalJson(value));
  return writer.close();
}

async function writeManifestArtifacts(
  input: WriteBundleInput,
  artifacts: ArtifactWriter,
  facts: EventFacts,
): Promise<Record<string, string[]>> {
  for (const refs of Object.values(input.manifestArtifacts ?? {})) for (const ref of refs) await artifacts.add(ref);
  return listManifestArtifacts(facts.ncpArtifacts, input.manifestArtifacts ?? {});
}

/** Writes the bundle into `dir` (created; must be absent or empty). */
export async function writeBundle(input: WriteBundleInput, dir: string): Promise<WrittenBundle> {
  if (!profileRules(input.profileId)) throw new Error(`unknown evidence profile ${input.profileId}`);
  const existing = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (existing.length > 0) throw new Error(`${dir} is not empty`);
  await mkdir(path.join(dir, ARTIFACTS_DIR), { recursive: true });
  const spool = await mkdtemp(path.join(os.tmpdir(), 'ecs-bundle-'));
  try {
    const artifacts = new ArtifactWriter(dir, input.artifacts);
    const entriesFile = path.join(spool, 'segment-entries.jsonl');
    const facts = await writeEvents({ dir, events: input.events, artifacts, profileId: input.profileId, entriesFile });
    const segmentDigest = await writeSegment({ dir, entriesFile, facts, profileId: input.profileId });
    const segmentFacts: SegmentFacts = { ...facts, chainSegmentRef: `eosc://evidence/chain/${segmentDigest}` };
    const listed = await writeManifestArtifacts(input, artifacts, facts);

    const fileDigests: Record<string, string> = {
      [BUNDLE_FILES.events]: facts.eventsDigest,
      [BUNDLE_FILES.segment]: segmentDigest,
      [BUNDLE_FILES.verifierInputs]: await writeJson(
        dir,
        BUNDLE_FILES.verifierInputs,
        verifierInputs(input.profileId, input.producer, segmentFacts),
      ),
      [BUNDLE_FILES.profileClaim]: await writeJson(
        dir,
        BUNDLE_FILES.profileClaim,
        profileClaim(input.profileId, input.producer, input.exportEndpoints ?? ['/v1/events', '/v1/exports']),
      ),
    };
    if (input.signer)
      fileDigests[BUNDLE_FILES.jwks] = await writeJson(dir, BUNDLE_FILES.jwks, { keys: input.signer.jwks.keys as JsonObject[] });
    const manifest = buildManifest({
      profileId: input.profileId,
      producer: input.producer,
      facts: segmentFacts,
      exportId: input.exportId ?? `exp-${randomUUID()}`,
      createdAt: (input.createdAt ?? new Date()).toISOString(),
      artifacts: listed,
      fileDigests,
      ...(input.signer ? { signature: { kid: input.signer.kid, file: SIGNATURE_FILE } } : {}),
    });
    const manifestBytes = Buffer.from(prettyCanonicalJson(manifest), 'utf8');
    await writeFile(path.join(dir, BUNDLE_FILES.manifest), manifestBytes, { flag: 'wx' });
    if (input.signer) {
      const jws = await input.signer.sign(manifestBytes, MANIFEST_SIGNATURE_TYP);
      await writeFile(path.join(dir, SIGNATURE_FILE), detachPayload(jws), { flag: 'wx' });
    }
    return { manifest, events: facts.count };
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}

/** Writes the bundle as a `.tar.gz` into `out` (through a temporary directory, removed after). */
export async function writeBundleTarGz(input: WriteBundleInput, out: NodeJS.WritableStream): Promise<WrittenBundle> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'ecs-bundle-out-'));
  try {
    const written = await writeBundle(input, path.join(work, 'bundle'));
    await packDirectory(path.join(work, 'bundle'), out);
    return written;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
