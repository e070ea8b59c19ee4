/**
 * Rolling an import back on the target (docs/migration.md, "Rollback"): the tenant made by
 * the import, with its buckets, objects, versions and workloads, is removed in one
 * transaction with the `migration.rollback` event, which stays in the tenant's chain here
 * (evidence is never removed). Allowed while the tenant is `importing`, or `active` with
 * nothing in its chain after `migration.activate` (it has not acted here yet). The bytes go
 * with the orphan sweep; the source's copy is untouched. Rolling back again changes nothing.
 */
import { actorOf } from '../../lib/auth/caller';
import type { Database } from '../../lib/db/database';
import { EcsError, ErrorCode } from '../../lib/errors';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import { appendEvidence, evidenceTransaction } from '../../lib/evidence/ledger';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';
import { announceGovernanceChange } from '../../lib/subgraph/governance-facts-cache';
import { importStepEvent } from './import-step-event';

export interface Rollback {
  evidencePointer: string;
  rolledBackAt: string;
}

export async function rollbackImport({
  db,
  context,
  tenantId,
  importId,
  reason,
}: {
  db: Database;
  context: MigrationRequestContext;
  tenantId: string;
  importId: string;
  reason: string | undefined;
}): Promise<Rollback> {
  const done = await importStepEvent(db, tenantId, 'migration.rollback', importId);
  if (done) return { evidencePointer: done.pointer, rolledBackAt: String(done.event.occurred_at) };
  const activation = await importStepEvent(db, tenantId, 'migration.activate', importId);
  const event = await evidenceTransaction(db, tenantId, async (tx) => {
    const locked = await tx.$queryRaw<Array<{ status: string }>>`SELECT status FROM control_tenants WHERE id = ${tenantId} FOR UPDATE`;
    const status = locked[0]?.status;
    if (status !== 'importing' && status !== 'active')
      throw new EcsError(ErrorCode.Conflict, `tenant ${tenantId} is ${status ?? 'not here'}; nothing of this import is left to roll back`);
    if (status === 'active') {
      const head = await tx.chainHead.findUnique({ where: { chainId: chainIdFor(tenantId) } });
      if (!activation || head?.sequence !== activation.event.sequence)
        throw new EcsError(
          ErrorCode.Conflict,
          `tenant ${tenantId} has acted here since its activation (its chain went on); an import is rolled back only before that`,
        );
    }
    // The snapshots in force for the tenant here, for its last event before it goes.
    const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: tenantId } });
    const binding = await tx.authorityBinding.findFirst({ where: { id: tenant.authorityBinding }, orderBy: { version: 'desc' } });
    const baseline = await tx.policyBaseline.findUnique({ where: { name: tenant.policyBaseline } });
    const where = { tenantId };
    await tx.storageObject.updateMany({ where, data: { currentVersionId: null } });
    const versions = await tx.storageObjectVersion.deleteMany({ where });
    await tx.storageObject.deleteMany({ where });
    await tx.multipartUpload.deleteMany({ where });
    // Credentials a platform administrator made for the tenant meanwhile go with it.
    await tx.apiKey.deleteMany({ where });
    await tx.s3Credential.deleteMany({ where });
    const buckets = await tx.bucket.deleteMany({ where });
    const workloads = await tx.workload.deleteMany({ where });
    await tx.tenant.delete({ where: { id: tenantId } });
    return appendEvidence(tx, {
      tenantId,
      eventType: 'migration.rollback',
      actor: actorOf(context.caller),
      outcome: 'accepted',
      correlationId: context.correlationId,
      ...(binding ? { authoritySnapshotId: binding.snapshotId } : {}),
      ...(baseline ? { policySnapshotId: baseline.currentSnapshotId } : {}),
      details: {
        import_id: importId,
        side: 'target',
        tenant_status_before: status,
        removed: { buckets: buckets.count, object_versions: versions.count, workloads: workloads.count },
        ...(reason ? { reason } : {}),
      },
    });
  });
  announceGovernanceChange(db);
  return { evidencePointer: event.evidence_pointer, rolledBackAt: event.occurred_at };
}
