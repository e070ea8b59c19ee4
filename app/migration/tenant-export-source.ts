import { FsBlobStore } from '../../lib/blob-store';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import type { Database } from '../../lib/db/database';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import type { ObjectVersionRecord, TenantExportSource, TenantState } from '../../lib/migration/export-source';
import { snapshotContentOf as policyContent } from '../../subgraphs/control/data/policy-baselines';
import { snapshotContentOf as authorityContent } from '../../subgraphs/identity/data/authority-bindings';
import { writeEvidenceBundle } from './evidence-bundle-file';

/** Rows read per round trip. */
const PAGE = 500;

export interface TenantExportSourceOptions {
  db: Database;
  blobDir: string;
  tenantId: string;
  signer: BundleSigner;
  providerId: string;
  exportId: string;
  createdAt: Date;
}

/** The tenant's facts and the snapshots in force (the policy baseline's current snapshot, the binding's latest version). */
export async function tenantState(db: Database, tenantId: string): Promise<TenantState | null> {
  const tenant = await db.prisma.tenant.findUnique({ where: { id: tenantId } });
  if (!tenant) return null;
  const binding = await db.prisma.authorityBinding.findFirst({ where: { id: tenant.authorityBinding }, orderBy: { version: 'desc' } });
  const baseline = await db.prisma.policyBaseline.findUnique({ where: { name: tenant.policyBaseline } });
  const policy = baseline ? await db.prisma.policySnapshot.findUnique({ where: { id: baseline.currentSnapshotId } }) : null;
  return {
    tenant: {
      id: tenant.id,
      status: tenant.status,
      jurisdiction: tenant.jurisdiction,
      classification_ceiling: tenant.classificationCeiling,
      policy_baseline: tenant.policyBaseline,
      authority_binding: tenant.authorityBinding,
      created_at: tenant.createdAt.toISOString(),
    },
    authority: binding ? { snapshotId: binding.snapshotId, content: authorityContent(binding, binding.version) } : null,
    policy: policy ? { snapshotId: policy.id, content: policyContent(policy.baseline, policy.text) } : null,
  };
}

/**
 * Reads a tenant for its export package from the planes' tables and the blob store of this
 * deployment. A read-only view taken by the composition root, which alone may see every
 * plane: the planes keep their own tables to themselves.
 */
export function tenantExportSource(options: TenantExportSourceOptions): TenantExportSource {
  const { db, tenantId } = options;
  const blobs = new FsBlobStore(options.blobDir);
  return {
    async state() {
      const state = await tenantState(db, tenantId);
      if (!state) throw new Error(`no tenant ${tenantId}`);
      return state;
    },
    async *workloads() {
      let after: string | undefined;
      for (;;) {
        const rows = await db.prisma.workload.findMany({
          where: { tenantId, ...(after ? { id: { gt: after } } : {}) },
          orderBy: { id: 'asc' },
          take: PAGE,
        });
        if (rows.length === 0) return;
        yield rows.map(
          (row): JsonObject => ({
            id: row.id,
            tenant_id: row.tenantId,
            envelope_type: row.envelopeType,
            image_ref: row.imageRef,
            policy_ref: row.policyRef,
            classification: row.classification,
            jurisdiction: row.jurisdiction,
            status: row.status,
            created_at: row.createdAt.toISOString(),
          }),
        );
        after = rows[rows.length - 1]!.id;
      }
    },
    async buckets() {
      const rows = await db.prisma.bucket.findMany({ where: { tenantId }, orderBy: { name: 'asc' } });
      return rows.map((row) => ({
        name: row.name,
        jurisdiction: row.jurisdiction,
        default_classification: row.defaultClassification,
        versioning: row.versioning,
        lock_mode: row.lockMode,
        default_retention: row.defaultRetention,
        created_at: row.createdAt.toISOString(),
      }));
    },
    async *objectVersions() {
      let after: string | undefined;
      for (;;) {
        const rows = await db.prisma.storageObjectVersion.findMany({
          where: { tenantId, ...(after ? { versionId: { gt: after } } : {}) },
          orderBy: { versionId: 'asc' },
          take: PAGE,
          include: { currentOf: { select: { id: true } } },
        });
        if (rows.length === 0) return;
        yield rows.map(
          (row): ObjectVersionRecord => ({
            bucket: row.bucket,
            key: row.key,
            versionId: row.versionId,
            size: Number(row.size),
            sha256: row.deleteMarker ? null : row.sha256,
            governance: {
              bucket: row.bucket,
              key: row.key,
              version_id: row.versionId,
              is_latest: row.currentOf !== null,
              delete_marker: row.deleteMarker,
              content_type: row.contentType,
              jurisdiction: row.jurisdiction,
              classification: row.classification,
              retention_ttl: row.retentionTtl,
              retention_until: row.retentionUntil?.toISOString() ?? null,
              lock_mode: row.lockMode,
              legal_hold: row.legalHold,
              integrity: row.integrity,
              sha256: row.sha256,
              evidence_pointer: row.evidencePointer,
              put_evidence_pointer: row.putEvidencePointer,
              data_product_id: row.dataProductId,
              usage_policy_snapshot_id: row.usagePolicySnapshotId,
              consent_token_ref: row.consentTokenRef,
              user_metadata: row.userMetadata ? (JSON.parse(row.userMetadata) as JsonObject) : {},
              created_at: row.createdAt.toISOString(),
            },
          }),
        );
        after = rows[rows.length - 1]!.versionId;
      }
    },
    openObject: (sha256) => blobs.open(sha256),
    async nonPortableState() {
      const open = await db.prisma.multipartUpload.findMany({ where: { tenantId, state: 'open' }, orderBy: { uploadId: 'asc' } });
      return open.map((upload) => ({
        item: `multipart_upload:${upload.bucket}/${upload.key}#${upload.uploadId}`,
        reason_code: 'open_multipart_upload',
        reason: 'an upload still in progress is transient state of this deployment',
        alternative: 'complete or abort the upload, then export again (completed objects are exported with their bytes)',
      }));
    },
    evidenceBundle: () =>
      writeEvidenceBundle({
        db,
        tenantId,
        signer: options.signer,
        providerId: options.providerId,
        exportId: options.exportId,
        createdAt: options.createdAt,
      }),
  };
}
