/**
 * Tenant imports (docs/migration.md): a platform administrator uploads a source's export
 * package (or has it pulled) and names the source's JWKS; the package is streamed to
 * `<dataDir>/migration-imports/`, every gate runs, and the outcome is a stored report and a
 * `migration.import.validate` event in the platform chain. A refused import keeps only its
 * report and evidence. A validated one is materialised at once: the tenant exists here as
 * `importing`, its chain starting with `migration.import`. Then `activate` (the workloads
 * under this deployment's policy, the tenant `active`) or `rollback` (the import discarded).
 * Each step commits with its event and is found again by it, so each is safe to retry.
 */
import { randomUUID } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { JSONWebKeySet } from 'jose';
import type { Database } from '../../lib/db/database';
import { EcsError, ErrorCode } from '../../lib/errors';
import type { RefusalThrottle } from '../../lib/evidence/refusal-throttle';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';
import { fetchJwks } from '../../lib/migration/fetch-jwks';
import { openSourcePackage } from '../../lib/migration/fetch-package';
import type { SourcePackage } from '../../lib/migration/fetch-package';
import { readImportedFacts } from '../../lib/migration/import-facts';
import { targetGates, uncheckedGates } from '../../lib/migration/import-gates';
import type { ImportTarget } from '../../lib/migration/import-gates';
import { NOT_IMPORTED } from '../../lib/migration/import-report';
import type { ImportGate, ImportGateName, ImportReport, ImportUpload, MigrationImports } from '../../lib/migration/import-report';
import { assertMayImport, refuseImport } from './import-access';
import { recordImportValidation } from './import-evidence';
import { ImportReports } from './import-reports';
import { activateImport } from './import-activation';
import { recordValidatedRollback } from './import-evidence';
import { materialiseImport } from './import-materialise';
import { rollbackImport } from './import-rollback';
import { importStepEvent } from './import-step-event';
import { importTarget } from './import-target';
import { packageGates } from './package-gates';
import { UploadTooLargeError, receiveUpload } from './upload-file';

export interface MigrationImportOptions {
  db: Database;
  dataDir: string;
  /** This deployment's blob store, where an import's object bytes go. */
  blobDir: string;
  /** `MIGRATION_JURISDICTIONS`; undefined: any. */
  jurisdictions: string[] | undefined;
  /** `MIGRATION_IMPORT_MAX_BYTES`. */
  maxBytes: number;
  refusals?: RefusalThrottle;
}

const ID = /^mim-[0-9a-f-]{36}$/;

/** Where a package came from: the source's keys, and the URL it was pulled from (null: uploaded). */
interface PackageOrigin {
  sourceJwksUrl: string;
  sourceUrl: string | null;
}

/** At most `max` characters of a value read from an untrusted package. */
const clip = (value: unknown, max = 200): string | null => (typeof value === 'string' ? value.slice(0, max) : null);

async function sourceJwks(url: string): Promise<{ jwks?: JSONWebKeySet; problem?: string }> {
  try {
    return { jwks: await fetchJwks(url) };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

/** The target's snapshots in force for the tenant's binding and baseline, when those gates passed. */
async function targetSnapshots(target: ImportTarget, gates: ImportGate[], binding: string | null, policySnapshotId: string | null) {
  const passed = (name: ImportGateName) => gates.some((gate) => gate.gate === name && gate.result === 'pass');
  const here = binding && passed('authority_binding') ? await target.authorityBinding(binding) : null;
  return {
    authoritySnapshotId: here?.snapshotId,
    policySnapshotId: policySnapshotId && passed('policy_baseline') ? policySnapshotId : undefined,
  };
}

export function migrationImports(options: MigrationImportOptions): MigrationImports {
  const { db, maxBytes, refusals } = options;
  const dir = path.join(options.dataDir, 'migration-imports');
  const reports = new ImportReports(dir);
  const target = importTarget(db, options.jurisdictions);
  const tooLarge = (context: MigrationRequestContext) =>
    refuseImport(db, context, {
      code: ErrorCode.PayloadTooLarge,
      reasonCode: 'package_too_large',
      reason: `the package is larger than ${maxBytes} bytes (MIGRATION_IMPORT_MAX_BYTES)`,
    });

  /** Every gate over the stored package; the items the gates read are kept under `work` meanwhile. */
  const check = async (
    context: MigrationRequestContext,
    id: string,
    origin: PackageOrigin,
    file: string,
    received: { size: number; digest: string },
  ) => {
    const work = path.join(dir, `${id}.work`);
    try {
      const keys = await sourceJwks(origin.sourceJwksUrl);
      const checked = await packageGates({ file, work, jwks: keys.jwks, jwksProblem: keys.problem, jwksUrl: origin.sourceJwksUrl });
      const { manifest, head } = checked;
      const facts = manifest ? await readImportedFacts(work, manifest) : undefined;
      const gates = [...checked.gates, ...(facts ? await targetGates(facts, target) : uncheckedGates('no readable manifest'))];
      const source = {
        source_provider: clip(manifest?.source_provider),
        source_tenant_id: clip(manifest?.tenant_id),
        source_chain_id: clip(head?.chainId ?? manifest?.evidence_range?.chain_id),
        source_head_sequence: head?.sequence ?? null,
        source_head_hash: clip(head?.eventHash),
      };
      const pointer = await recordImportValidation(db, {
        context,
        gates,
        snapshots: await targetSnapshots(target, gates, clip(facts?.tenant?.authority_binding), clip(manifest?.policy_snapshot_id)),
        details: {
          import_id: id,
          ...source,
          source_authority_snapshot_id: clip(manifest?.authority_snapshot_id),
          source_policy_snapshot_id: clip(manifest?.policy_snapshot_id),
          package_digest: received.digest,
          package_size: received.size,
          source_url: origin.sourceUrl,
        },
      });
      const report: ImportReport = {
        import_id: id,
        status: gates.every((gate) => gate.result === 'pass') ? 'validated' : 'refused',
        validated_at: new Date().toISOString(),
        ...source,
        package_digest: received.digest,
        package_size: received.size,
        source_jwks_url: origin.sourceJwksUrl,
        source_url: origin.sourceUrl,
        gates,
        evidence_pointer: pointer,
        ...NOT_IMPORTED,
      };
      return report;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };

  /** Stores the package's bytes, runs every gate and keeps what the outcome says. */
  const receiveAndCheck = async (
    context: MigrationRequestContext,
    upload: ImportUpload,
    origin: PackageOrigin,
    bodyFailed?: (error: unknown) => Promise<Error>,
  ) => {
    if (upload.declaredLength !== undefined && upload.declaredLength > maxBytes) {
      upload.body.destroy();
      throw await tooLarge(context);
    }
    const id = `mim-${randomUUID()}`;
    const partial = path.join(dir, `${id}.tar.gz.partial`);
    let received: { size: number; digest: string };
    try {
      received = await receiveUpload(upload.body, partial, maxBytes);
    } catch (error) {
      if (error instanceof UploadTooLargeError) throw await tooLarge(context);
      throw bodyFailed ? await bodyFailed(error) : error;
    }
    let kept = false;
    try {
      const report = await check(context, id, origin, partial, received);
      // A validated package waits for the next step; a refused one keeps only its report and evidence.
      if (report.status === 'validated') {
        await rename(partial, path.join(dir, `${id}.tar.gz`));
        kept = true;
      }
      await reports.save(report);
      if (report.status !== 'validated') return report;
    } finally {
      if (!kept) await rm(partial, { force: true });
    }
    return materialise(context, (await reports.find(id))!, true);
  };

  const packageOf = (id: string) => path.join(dir, `${id}.tar.gz`);
  const sourceEvidenceOf = (id: string) => path.join(dir, `${id}.source-evidence.tar.gz`);

  /** Makes the validated tenant `importing` here (or finds it made), and says so in the report. */
  const materialise = async (context: MigrationRequestContext, report: ImportReport, justReceived = false): Promise<ImportReport> => {
    const made = await materialiseImport({
      justReceived,
      db,
      blobDir: options.blobDir,
      packageFile: packageOf(report.import_id),
      sourceEvidenceFile: sourceEvidenceOf(report.import_id),
      report,
      context,
      target,
    });
    const imported: ImportReport = {
      ...report,
      status: 'imported',
      tenant_id: made.tenantId,
      imported_at: new Date().toISOString(),
      import_evidence_pointer: made.evidencePointer,
      counts: made.counts,
    };
    await reports.save(imported);
    return imported;
  };

  /** The report of `id`, for a platform administrator. */
  const found = async (context: MigrationRequestContext, id: string): Promise<ImportReport> => {
    await assertMayImport(db, context, refusals);
    const report = ID.test(id) ? await reports.find(id) : undefined;
    if (!report) throw new EcsError(ErrorCode.NotFound, 'no such migration import');
    return report;
  };

  /** The tenant an import made here, if it made one (its `migration.import` event is the proof). */
  const madeTenant = async (report: ImportReport): Promise<string | undefined> => {
    if (report.tenant_id) return report.tenant_id;
    const tenantId = report.source_tenant_id;
    return tenantId && (await importStepEvent(db, tenantId, 'migration.import', report.import_id)) ? tenantId : undefined;
  };

  return {
    authorize: (context) => assertMayImport(db, context, refusals),
    refuseRequest: (context, refusal) => refuseImport(db, context, refusal),
    async validate(context, upload) {
      await assertMayImport(db, context, refusals);
      return receiveAndCheck(context, upload, { sourceJwksUrl: upload.sourceJwksUrl, sourceUrl: null });
    },
    async pull(context, pull) {
      await assertMayImport(db, context, refusals);
      const unavailable = (error: unknown) =>
        refuseImport(db, context, {
          code: ErrorCode.DependencyUnavailable,
          reasonCode: 'source_package_unavailable',
          reason: `the package could not be pulled from ${pull.sourceUrl}: ${error instanceof Error ? error.message : String(error)}`.slice(
            0,
            500,
          ),
        });
      let opened: SourcePackage;
      try {
        opened = await openSourcePackage(pull.sourceUrl, pull.sourceToken);
      } catch (error) {
        throw await unavailable(error);
      }
      return receiveAndCheck(
        context,
        { ...opened, sourceJwksUrl: pull.sourceJwksUrl },
        { sourceJwksUrl: pull.sourceJwksUrl, sourceUrl: pull.sourceUrl },
        unavailable,
      );
    },
    report: found,
    async activate(context, id) {
      let report = await found(context, id);
      if (report.status === 'active') return report;
      if (report.status !== 'validated' && report.status !== 'imported')
        throw new EcsError(ErrorCode.Conflict, `migration import ${id} is ${report.status}; only an imported tenant is activated`);
      // A materialisation a crash cut short is finished first.
      if (report.status === 'validated') report = await materialise(context, report);
      const activation = await activateImport({ db, target, context, tenantId: report.tenant_id!, importId: id });
      const active: ImportReport = {
        ...report,
        status: 'active',
        activated_at: activation.activatedAt,
        activation_evidence_pointer: activation.evidencePointer,
        workloads_refused: activation.refused,
      };
      await reports.save(active);
      await rm(packageOf(id), { force: true });
      return active;
    },
    async rollback(context, id, reason) {
      const report = await found(context, id);
      if (report.status === 'rolled_back') return report;
      if (report.status === 'refused')
        throw new EcsError(ErrorCode.Conflict, `migration import ${id} was refused; it holds nothing to roll back`);
      const tenantId = await madeTenant(report);
      const rollback = tenantId
        ? await rollbackImport({ db, context, tenantId, importId: id, reason })
        : await recordValidatedRollback(db, context, report, reason);
      const rolledBack: ImportReport = {
        ...report,
        status: 'rolled_back',
        rolled_back_at: rollback.rolledBackAt,
        rollback_evidence_pointer: rollback.evidencePointer,
      };
      await reports.save(rolledBack);
      await rm(packageOf(id), { force: true });
      await rm(sourceEvidenceOf(id), { force: true });
      return rolledBack;
    },
  };
}
