/**
 * Materialising a validated import (docs/migration.md, "Import"): the kept package is read
 * once more, every object version's bytes go into this deployment's blob store (checked
 * against the SHA-256 the signed manifest lists), and then one transaction creates the
 * tenant as `importing`, its buckets, objects, versions and workloads, and the first event of
 * its chain here, `migration.import`, which links to the source chain's head. Either all of
 * it commits or none: blobs written before a failure are unreferenced and go with the
 * orphan sweep. Running it again after a crash finds the tenant it made and does nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { actorOf } from '../../lib/auth/caller';
import { FsBlobStore } from '../../lib/blob-store';
import type { WrittenBlob } from '../../lib/blob-store';
import { DEFAULT_LIMITS, readEntry } from '../../lib/bundle/bundle';
import type { BundleEntry } from '../../lib/bundle/bundle';
import { readTarEntries } from '../../lib/bundle/tar-reader';
import { TempSpace } from '../../lib/bundle/temp-space';
import type { Database } from '../../lib/db/database';
import { EcsError, ErrorCode } from '../../lib/errors';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { appendEvidence, evidenceTransaction } from '../../lib/evidence/ledger';
import type { LedgerTransaction } from '../../lib/evidence/ledger';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';
import { NESTED_BUNDLE } from '../../lib/migration/import-facts';
import type { ImportTarget } from '../../lib/migration/import-gates';
import type { ImportCounts, ImportReport } from '../../lib/migration/import-report';
import { PACKAGE_FILES } from '../../lib/migration/package-manifest';
import type { PackageManifest } from '../../lib/migration/package-manifest';
import { announceGovernanceChange } from '../../lib/subgraph/governance-facts-cache';
import { importStepEvent } from './import-step-event';
import { isUniqueViolation } from '../../lib/db/unique-violation';

/** Rows per `createMany`. */
const BATCH = 1_000;

/** An import's transaction may run long: a tenant of 100,000 object versions is 100 inserts of a thousand rows. */
const IMPORT_TRANSACTION_MS = 10 * 60_000;

/** The package documents materialisation reads (small JSON). */
const DOCUMENTS = /^(tenant\.json|(buckets|workloads)\/[^/]+\.json)$/;

export interface MaterialisedImport {
  tenantId: string;
  evidencePointer: string;
  counts: ImportCounts;
}

export interface MaterialiseInput {
  db: Database;
  blobDir: string;
  /** The kept package (`<id>.tar.gz`). */
  packageFile: string;
  /** Where the source chain's evidence bundle is kept beside the import (the link's other end). */
  sourceEvidenceFile: string;
  report: ImportReport;
  context: MigrationRequestContext;
  target: ImportTarget;
  /**
   * The package file was hashed to `report.package_digest` as it was received, in this same
   * request: no second read. A later materialisation (a retry) hashes it again first.
   */
  justReceived?: boolean;
}

interface PackageRead {
  manifest: PackageManifest;
  documents: Map<string, JsonObject>;
  blobs: Map<string, WrittenBlob>;
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}

/** The entry's chunks as a stream of copies (the reader reuses a chunk once the next is asked for). */
const entryStream = (entry: BundleEntry): Readable =>
  Readable.from(
    (async function* copies() {
      for await (const chunk of entry.chunks()) yield Buffer.from(chunk);
    })(),
  );

async function copyEntry(entry: BundleEntry, destination: string): Promise<void> {
  const out = createWriteStream(`${destination}.partial`);
  try {
    for await (const chunk of entry.chunks()) if (!out.write(Buffer.from(chunk))) await once(out, 'drain');
  } finally {
    out.end();
    await finished(out);
  }
  await rename(`${destination}.partial`, destination);
}

/** One pass over the package: its documents, every object's bytes into the blob store, the source's evidence bundle kept. */
async function readPackage(input: MaterialiseInput): Promise<PackageRead> {
  const store = new FsBlobStore(input.blobDir);
  const documents = new Map<string, JsonObject>();
  const blobs = new Map<string, WrittenBlob>();
  let manifest: PackageManifest | undefined;
  const space = new TempSpace('ecs-import-');
  try {
    for await (const entry of readTarEntries(input.packageFile, DEFAULT_LIMITS, space)) {
      if (entry.name === PACKAGE_FILES.manifest) manifest = JSON.parse((await readEntry(entry)).toString('utf8')) as PackageManifest;
      else if (DOCUMENTS.test(entry.name))
        documents.set(entry.name, JSON.parse(Buffer.from(await readEntry(entry)).toString('utf8')) as JsonObject);
      else if (entry.name.startsWith('objects/')) blobs.set(entry.name, await store.put(entryStream(entry)));
      else if (entry.name === NESTED_BUNDLE) await copyEntry(entry, input.sourceEvidenceFile);
    }
  } finally {
    await space.remove();
  }
  if (!manifest) throw new EcsError(ErrorCode.Conflict, 'the kept package has no manifest.json');
  return { manifest, documents, blobs };
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const required = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || value === '') throw new EcsError(ErrorCode.Conflict, `the package's ${what} is missing`);
  return value;
};
const date = (value: unknown): Date | undefined =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value) : undefined;

/** The rows of the tenant, from the package (checked by the gates; the blobs checked here against the manifest). */
function rowsOf(read: PackageRead, tenantId: string) {
  const tenant = read.documents.get('tenant.json');
  if (!tenant) throw new EcsError(ErrorCode.Conflict, 'the kept package has no tenant.json');
  const buckets = [...read.documents].filter(([name]) => name.startsWith('buckets/')).map(([, bucket]) => bucket);
  const workloads = [...read.documents].filter(([name]) => name.startsWith('workloads/')).map(([, workload]) => workload);
  const versions = read.manifest.contents
    .filter((item) => item.type === 'data_snapshot')
    .map((item) => {
      const meta = (item.governance_metadata ?? {}) as JsonObject;
      const stored = read.blobs.get(item.path);
      const deleteMarker = meta.delete_marker === true;
      const sha256 = text(meta.sha256);
      if (!stored || `sha256:${stored.sha256}` !== item.integrity_hash)
        throw new EcsError(ErrorCode.Conflict, `the bytes of ${item.path} are not the ones the manifest lists`);
      if (!deleteMarker && sha256 !== stored.sha256)
        throw new EcsError(ErrorCode.Conflict, `${item.path}: its governance metadata names another SHA-256`);
      return { meta, stored, deleteMarker, sha256: deleteMarker ? null : sha256 };
    });
  return { tenant, buckets, workloads, versions, tenantId };
}

/** `insert` over `rows`, BATCH at a time. */
async function inBatches<T>(rows: T[], insert: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += BATCH) await insert(rows.slice(start, start + BATCH));
}

async function insertRows(tx: LedgerTransaction, rows: ReturnType<typeof rowsOf>): Promise<void> {
  const { tenant, tenantId } = rows;
  await tx.tenant.create({
    data: {
      id: tenantId,
      authorityBinding: required(tenant.authority_binding, 'authority binding'),
      jurisdiction: required(tenant.jurisdiction, 'jurisdiction'),
      classificationCeiling: required(tenant.classification_ceiling, 'classification ceiling'),
      policyBaseline: required(tenant.policy_baseline, 'policy baseline'),
      status: 'importing',
      ...(date(tenant.created_at) ? { createdAt: date(tenant.created_at) } : {}),
    },
  });
  await inBatches(rows.buckets, (batch) =>
    tx.bucket.createMany({
      data: batch.map((bucket) => ({
        name: required(bucket.name, 'bucket name'),
        tenantId,
        jurisdiction: required(bucket.jurisdiction, 'bucket jurisdiction'),
        defaultClassification: required(bucket.default_classification, 'bucket classification'),
        versioning: bucket.versioning === true,
        lockMode: text(bucket.lock_mode) ?? 'compliance',
        defaultRetention: text(bucket.default_retention),
        ...(date(bucket.created_at) ? { createdAt: date(bucket.created_at) } : {}),
      })),
    }),
  );
  // One object per bucket and key; its current version is the one the source marked latest.
  const objects = new Map<string, { id: string; bucket: string; key: string; current: string | null }>();
  for (const { meta } of rows.versions) {
    const bucket = required(meta.bucket, 'object bucket');
    const key = required(meta.key, 'object key');
    const name = JSON.stringify([bucket, key]);
    const object = objects.get(name) ?? { id: randomUUID(), bucket, key, current: null };
    if (meta.is_latest === true) object.current = required(meta.version_id, 'version id');
    objects.set(name, object);
  }
  const objectList = [...objects.values()];
  await inBatches(objectList, (batch) =>
    tx.storageObject.createMany({
      data: batch.map((object) => ({ id: object.id, bucket: object.bucket, key: object.key, tenantId })),
    }),
  );
  await inBatches(rows.versions, (batch) =>
    tx.storageObjectVersion.createMany({
      data: batch.map(({ meta, stored, deleteMarker, sha256 }) => {
        const bucket = required(meta.bucket, 'object bucket');
        const key = required(meta.key, 'object key');
        const userMetadata = meta.user_metadata as JsonObject | null | undefined;
        return {
          versionId: required(meta.version_id, 'version id'),
          objectId: objects.get(JSON.stringify([bucket, key]))!.id,
          bucket,
          key,
          tenantId,
          sha256,
          // The package carries the bytes, not the source's ETag: a multipart ETag becomes the bytes' MD5.
          s3Etag: deleteMarker ? null : stored.md5,
          size: BigInt(stored.size),
          contentType: text(meta.content_type),
          jurisdiction: text(meta.jurisdiction),
          retentionTtl: text(meta.retention_ttl),
          retentionUntil: date(meta.retention_until) ?? null,
          classification: text(meta.classification),
          integrity: text(meta.integrity),
          evidencePointer: text(meta.evidence_pointer),
          dataProductId: text(meta.data_product_id),
          usagePolicySnapshotId: text(meta.usage_policy_snapshot_id),
          consentTokenRef: text(meta.consent_token_ref),
          legalHold: meta.legal_hold === true,
          lockMode: text(meta.lock_mode),
          deleteMarker,
          userMetadata: userMetadata && Object.keys(userMetadata).length > 0 ? JSON.stringify(userMetadata) : null,
          origin: 'import',
          putEvidencePointer: text(meta.put_evidence_pointer),
          ...(date(meta.created_at) ? { createdAt: date(meta.created_at) } : {}),
        };
      }),
    }),
  );
  const current = objectList.filter((object) => object.current !== null);
  await inBatches(
    current,
    (batch) => tx.$executeRaw`UPDATE data_objects AS o SET current_version_id = c.version_id
      FROM unnest(${batch.map((object) => object.id)}::uuid[], ${batch.map((object) => object.current)}::text[]) AS c(object_id, version_id)
      WHERE o.id = c.object_id`,
  );
  await inBatches(rows.workloads, (batch) =>
    tx.workload.createMany({
      data: batch.map((workload) => ({
        id: required(workload.id, 'workload id'),
        tenantId,
        envelopeType: required(workload.envelope_type, 'workload envelope'),
        imageRef: required(workload.image_ref, 'workload image'),
        policyRef: text(workload.policy_ref),
        classification: required(workload.classification, 'workload classification'),
        jurisdiction: required(workload.jurisdiction, 'workload jurisdiction'),
        status: text(workload.status) ?? 'admitted',
        ...(date(workload.created_at) ? { createdAt: date(workload.created_at) } : {}),
      })),
    }),
  );
}

/**
 * Materialises a validated import (see the module's comment). The stored package must still
 * be the one validated (its SHA-256), or nothing is made.
 * @throws EcsError 409 when the package changed, its bytes disagree with its manifest, or the tenant exists (not made by this import)
 */
export async function materialiseImport(input: MaterialiseInput): Promise<MaterialisedImport> {
  const { db, report, context } = input;
  const tenantId = report.source_tenant_id;
  if (!tenantId) throw new EcsError(ErrorCode.Conflict, 'the import names no tenant');
  const already = await importStepEvent(db, tenantId, 'migration.import', report.import_id);
  if (already) {
    const count = (name: string) => (typeof already.event[name] === 'number' ? (already.event[name] as number) : 0);
    return {
      tenantId,
      evidencePointer: already.pointer,
      counts: {
        buckets: count('buckets'),
        object_versions: count('object_versions'),
        workloads: count('workloads'),
        bytes: count('bytes'),
      },
    };
  }
  if (!input.justReceived && (await fileDigest(input.packageFile)) !== report.package_digest)
    throw new EcsError(ErrorCode.Conflict, 'the kept package is no longer the one validated (its SHA-256 changed); import it again');
  let read: PackageRead;
  try {
    read = await readPackage(input);
  } catch (error) {
    await rm(input.sourceEvidenceFile, { force: true });
    throw error;
  }
  const rows = rowsOf(read, tenantId);
  const counts: ImportCounts = {
    buckets: rows.buckets.length,
    object_versions: rows.versions.length,
    workloads: rows.workloads.length,
    bytes: rows.versions.reduce((sum, version) => sum + version.stored.size, 0),
  };
  const binding = rows.tenant.authority_binding;
  const authority = typeof binding === 'string' ? await input.target.authorityBinding(binding) : null;
  const policySnapshotId = text(read.manifest.policy_snapshot_id);
  const event = await evidenceTransaction(
    db,
    tenantId,
    async (tx) => {
      await insertRows(tx, rows);
      return appendEvidence(tx, {
        tenantId,
        eventType: 'migration.import',
        actor: actorOf(context.caller),
        outcome: 'accepted',
        correlationId: context.correlationId,
        ...(authority ? { authoritySnapshotId: authority.snapshotId } : {}),
        ...(policySnapshotId ? { policySnapshotId } : {}),
        details: {
          import_id: report.import_id,
          source_provider: report.source_provider,
          source_tenant_id: tenantId,
          source_chain_id: report.source_chain_id,
          source_head_sequence: report.source_head_sequence,
          source_head_hash: report.source_head_hash,
          source_authority_snapshot_id: text(read.manifest.authority_snapshot_id),
          source_policy_snapshot_id: policySnapshotId,
          package_digest: report.package_digest,
          validation_evidence_pointer: report.evidence_pointer,
          ...counts,
        },
      });
    },
    { timeoutMs: IMPORT_TRANSACTION_MS },
  ).catch(async (error: unknown) => {
    // The id clash gate passed at validation; something made the same ids since.
    if (isUniqueViolation(error))
      throw new EcsError(ErrorCode.Conflict, `tenant ${tenantId} or one of its ids exists here already; nothing was imported`);
    throw error;
  });
  announceGovernanceChange(db);
  return { tenantId, evidencePointer: event.evidence_pointer, counts };
}
