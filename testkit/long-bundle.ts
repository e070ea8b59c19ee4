/**
 * Writes a long evidence bundle fast, for the verifier's streaming and memory tests: a
 * chain of simple workload events (canonical JSON, hashed and linked as the ledger does),
 * one decision record per `eventsPerRecord` events, written straight to a directory with
 * synchronous writes. write-bundle.ts checks everything it writes and takes about a
 * minute for 200,000 events; this takes seconds. The bundle is complete: signed when a
 * signer is given, with `file_digests` and `merkle_root`, so it verifies with no warning.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLE_FILES, MANIFEST_SIGNATURE_TYP } from '../lib/bundle/bundle';
import { JOINED_HASH_METHOD, MERKLE_ROOT_METHOD, accumulatorFor } from '../lib/bundle/hash-methods';
import type { BundleSigner } from '../lib/bundle/plan-bundle';
import { prettyCanonicalJson } from '../lib/bundle/pretty-json';
import { segmentHead, segmentTail } from '../lib/bundle/segment-text';
import { TAR_BLOCK, tarHeader } from '../lib/bundle/tar-header';
import { manifest, profileClaim, verifierInputs } from '../lib/bundle/write-documents';
import { canonicalJson, sha256Digest } from '../lib/evidence/canonical-json';
import type { JsonObject } from '../lib/evidence/canonical-json';
import { detachPayload } from '../lib/keys/verify-jws';

export interface LongBundleOptions {
  count: number;
  /** Consecutive events sharing one decision record (one artifact file). @default 2 */
  eventsPerRecord?: number;
  signer?: BundleSigner;
  /** Writes this event with another outcome but its original hashes: found at that sequence. */
  tamperSequence?: number;
  /**
   * Writes the bundle as this `.tar.gz` instead of a directory (events and segment are
   * staged in `dir` and removed): ten million artifact files need no directory on disk.
   */
  archive?: string;
}

const TENANT = 'tenant-long';
const CHAIN = `ecs:tenant:${TENANT}`;
const PROFILE = 'ecs-evidence-admissible';
const PRODUCER = { issuerId: 'provider-test', producerId: 'ecs-gateway' };
const START = Date.UTC(2026, 0, 1);

/** A file written in large synchronous writes, hashed on the way. */
class FileOut {
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private pending: string[] = [];
  private length = 0;

  constructor(file: string) {
    this.fd = openSync(file, 'wx');
  }

  write(text: string): void {
    this.pending.push(text);
    this.length += text.length;
    if (this.length > 1 << 20) this.flush();
  }

  close(): string {
    this.flush();
    closeSync(this.fd);
    return `sha256:${this.hash.digest('hex')}`;
  }

  private flush(): void {
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.hash.update(bytes);
    writeSync(this.fd, bytes);
    this.pending = [];
    this.length = 0;
  }
}

/**
 * A `.tar.gz` written with synchronous writes: the tar stream compressed in gzip members of
 * a few megabytes each (gzip readers, ours and GNU tar's, read concatenated members as one).
 */
class TarGzOut {
  private readonly fd: number;
  private pending: Buffer[] = [];
  private length = 0;

  constructor(file: string) {
    this.fd = openSync(file, 'wx');
  }

  file(name: string, content: string | Buffer): void {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    this.push(tarHeader(name, bytes.length));
    this.push(bytes);
    this.pad(bytes.length);
  }

  /** A file copied from disk in slices. */
  copy(name: string, source: string): void {
    const size = statSync(source).size;
    this.push(tarHeader(name, size));
    const fd = openSync(source, 'r');
    try {
      for (let offset = 0; offset < size; ) {
        const slice = Buffer.allocUnsafe(Math.min(4 << 20, size - offset));
        const read = readSync(fd, slice, 0, slice.length, offset);
        if (read === 0) throw new Error(`${source} is shorter than its size`);
        this.push(slice.subarray(0, read));
        offset += read;
      }
    } finally {
      closeSync(fd);
    }
    this.pad(size);
  }

  close(): void {
    this.push(Buffer.alloc(2 * TAR_BLOCK));
    this.flush();
    closeSync(this.fd);
  }

  private pad(size: number): void {
    const rest = size % TAR_BLOCK;
    if (rest) this.push(Buffer.alloc(TAR_BLOCK - rest));
  }

  private push(bytes: Buffer): void {
    this.pending.push(bytes);
    this.length += bytes.length;
    if (this.length > 4 << 20) this.flush();
  }

  private flush(): void {
    if (this.length === 0) return;
    writeSync(this.fd, gzipSync(Buffer.concat(this.pending), { level: 1 }));
    this.pending = [];
    this.length = 0;
  }
}

function record(k: number): string {
  return canonicalJson({
    record_type: 'ecs.decision-record',
    tenant_id: TENANT,
    correlation_id: `corr-${k}`,
    event_type: 'workload.deploy',
    actor: 'user-1',
    decision: 'accepted',
    decided_at: new Date(START + k * 1000).toISOString(),
    policy_snapshot_id: 'ecs-baseline-v1@1',
  });
}

const quote = (text: string): string => JSON.stringify(text);

/** The artifact file of the event at `sequence`, and the pointer to it. */
export function longBundleArtifact(sequence: number, eventsPerRecord = 2): { name: string; pointer: string } {
  const digest = sha256Digest(record(Math.floor((sequence - 1) / eventsPerRecord) + 1));
  return { name: `artifacts/${digest.replace(':', '-')}.json`, pointer: `eosc://evidence/${digest}` };
}

/** The segment entry as segment-text.ts renders it, without parsing it back. */
function segmentEntry(event: { id: string; sequence: number; prev?: string; hash: string; pointer: string }): string {
  return (
    `${event.sequence === 1 ? '' : ',\n'}    {\n      "id": ${quote(event.id)},\n      "sequence": ${event.sequence},\n` +
    `      "prev_hash": ${event.prev ? quote(event.prev) : 'null'},\n      "event_hash": ${quote(event.hash)},\n` +
    `      "evidence_profile_id": ${quote(PROFILE)},\n      "event_ref": ${quote(event.pointer)}\n    }`
  );
}

/** Writes the bundle into the directory `dir` (created). */
export async function writeLongBundle(dir: string, options: LongBundleOptions): Promise<void> {
  const { count, eventsPerRecord = 2, signer, tamperSequence } = options;
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
  const archive = options.archive ? new TarGzOut(options.archive) : undefined;
  const put = (name: string, text: string): void => (archive ? archive.file(name, text) : writeFileSync(path.join(dir, name), text));
  const events = new FileOut(path.join(dir, BUNDLE_FILES.events));
  const segment = new FileOut(path.join(dir, BUNDLE_FILES.segment));
  const [bundleHash, merkleRoot] = [accumulatorFor(JOINED_HASH_METHOD)!, accumulatorFor(MERKLE_ROOT_METHOD)!];
  segment.write(segmentHead({ chainId: CHAIN, tenantId: TENANT, profileId: PROFILE, fromSequence: 1, toSequence: count }));
  let prev: string | undefined;
  let pointer = '';
  for (let sequence = 1; sequence <= count; sequence += 1) {
    const k = Math.floor((sequence - 1) / eventsPerRecord) + 1;
    if ((sequence - 1) % eventsPerRecord === 0) {
      const text = record(k);
      const digest = sha256Digest(text);
      pointer = `eosc://evidence/${digest}`;
      put(`artifacts/${digest.replace(':', '-')}.json`, text);
    }
    const id = `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`;
    // The canonical text written directly, members in RFC 8785 order (checked on the first event).
    const head = `{"actor":"user-1","chain_id":${quote(CHAIN)},"correlation_id":"corr-${k}",`;
    const tail =
      `"event_type":"workload.deploy","evidence_pointer":${quote(pointer)},"id":${quote(id)},` +
      `"occurred_at":${quote(new Date(START + k * 1000).toISOString())},"outcome":"accepted",` +
      `"policy_snapshot_id":"ecs-baseline-v1@1",${prev ? `"prev_hash":${quote(prev)},` : ''}"sequence":${sequence},` +
      `"tenant_id":${quote(TENANT)}}`;
    const hash = sha256Digest(`${head}${tail}`);
    const text = `${head}"event_hash":${quote(hash)},${tail}`;
    if (sequence === 1 && text !== canonicalJson(JSON.parse(text) as JsonObject))
      throw new Error('the long bundle writer is not canonical');
    events.write(`${sequence === tamperSequence ? text.replace('"outcome":"accepted"', '"outcome":"failed"') : text}\n`);
    segment.write(segmentEntry({ id, sequence, hash, pointer, ...(prev ? { prev } : {}) }));
    bundleHash.push(hash);
    merkleRoot.push(hash);
    prev = hash;
  }
  const facts = { bundleHash: bundleHash.digest(), merkleRoot: merkleRoot.digest() };
  segment.write(segmentTail(facts));
  const segmentDigest = segment.close();
  const segmentFacts = {
    tenantId: TENANT,
    chainId: CHAIN,
    fromSequence: 1,
    toSequence: count,
    ...facts,
    chainSegmentRef: `eosc://evidence/chain/${segmentDigest}`,
  };
  const documents: Record<string, string> = {
    [BUNDLE_FILES.verifierInputs]: prettyCanonicalJson(verifierInputs(PROFILE, PRODUCER, segmentFacts)),
    [BUNDLE_FILES.profileClaim]: prettyCanonicalJson(profileClaim(PROFILE, PRODUCER, ['/v1/events', '/v1/exports'])),
    ...(signer ? { [BUNDLE_FILES.jwks]: prettyCanonicalJson({ keys: signer.jwks.keys as JsonObject[] }) } : {}),
  };
  const fileDigests: Record<string, string> = { [BUNDLE_FILES.events]: events.close(), [BUNDLE_FILES.segment]: segmentDigest };
  for (const [name, text] of Object.entries(documents)) {
    put(name, text);
    fileDigests[name] = sha256Digest(text);
  }
  const manifestText = prettyCanonicalJson(
    manifest({
      profileId: PROFILE,
      producer: PRODUCER,
      facts: segmentFacts,
      exportId: 'exp-long',
      createdAt: new Date(START).toISOString(),
      artifacts: {},
      fileDigests,
      ...(signer ? { signature: { kid: signer.kid, file: 'manifest.sig' } } : {}),
    }),
  );
  put(BUNDLE_FILES.manifest, manifestText);
  if (signer) {
    const jws = await signer.sign(Buffer.from(manifestText, 'utf8'), MANIFEST_SIGNATURE_TYP);
    put('manifest.sig', detachPayload(jws));
  }
  if (!archive) return;
  for (const name of [BUNDLE_FILES.events, BUNDLE_FILES.segment]) {
    archive.copy(name, path.join(dir, name));
    rmSync(path.join(dir, name));
  }
  archive.close();
}
