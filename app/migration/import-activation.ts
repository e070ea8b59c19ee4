/**
 * Activating an imported tenant (docs/migration.md, "Activation"): every imported workload
 * is evaluated under this deployment's policy in force for the tenant's baseline, as an
 * admission would be; those it refuses become `failed`, each with `workload.refuse` evidence.
 * Then, in one transaction with those events, the tenant becomes `active` and its chain takes
 * `migration.activate`. Activating again finds that event and changes nothing.
 */
import { actorOf } from '../../lib/auth/caller';
import { CLASSIFICATIONS } from '../../lib/domain/classification';
import type { Classification } from '../../lib/domain/classification';
import { jurisdictionWithin } from '../../lib/domain/jurisdiction';
import type { Database } from '../../lib/db/database';
import { EcsError, ErrorCode } from '../../lib/errors';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import type { EvidenceInput, RefusalReasonClass } from '../../lib/evidence/evidence-event';
import { appendEvidenceBatch, evidenceTransaction } from '../../lib/evidence/ledger';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';
import type { ImportTarget } from '../../lib/migration/import-gates';
import type { RefusedWorkload } from '../../lib/migration/import-report';
import { compilePolicy } from '../../lib/policy/compile-policy';
import { evaluateAdmission } from '../../lib/policy/evaluate-admission';
import { refuse } from '../../lib/subgraph/authorize';
import type { RefusalDetails } from '../../lib/subgraph/authorize';
import { announceGovernanceChange } from '../../lib/subgraph/governance-facts-cache';
import { parseImageRef } from '../../subgraphs/execution/admission/image-ref';
import { importStepEvent } from './import-step-event';

export interface Activation {
  evidencePointer: string;
  activatedAt: string;
  refused: RefusedWorkload[];
}

/** Workload states that run, or may: the ones a policy decides on again. */
const LIVE = ['admitted', 'running'];

interface Decision {
  workload: { id: string; envelopeType: string; imageRef: string; classification: string; jurisdiction: string };
  refusal?: { reasonClass: RefusalReasonClass; reasonCode: string; reason: string; policyIds: string[]; reasons: JsonObject[] };
}

/**
 * Activates the imported tenant `tenantId` of import `importId` (see the module's comment).
 * @throws EcsError 409 when the tenant is not `importing`; 403 (with evidence) when its authority binding is not valid here now; 503 when the policy in force cannot be used (fail closed)
 */
export async function activateImport({
  db,
  target,
  context,
  tenantId,
  importId,
}: {
  db: Database;
  target: ImportTarget;
  context: MigrationRequestContext;
  tenantId: string;
  importId: string;
}): Promise<Activation> {
  const done = await importStepEvent(db, tenantId, 'migration.activate', importId);
  if (done) return { evidencePointer: done.pointer, activatedAt: String(done.event.occurred_at), refused: refusedOf(done.event) };
  const tenant = await db.prisma.tenant.findUnique({ where: { id: tenantId } });
  if (tenant?.status !== 'importing')
    throw new EcsError(
      ErrorCode.Conflict,
      `tenant ${tenantId} is ${tenant ? tenant.status : 'not here'}: only an importing tenant is activated`,
    );
  const actor = actorOf(context.caller);
  const binding = await target.authorityBinding(tenant.authorityBinding);
  const now = new Date();
  const refused = (
    refusal: Pick<RefusalDetails, 'reasonClass' | 'reasonCode' | 'reason' | 'code' | 'authoritySnapshotId' | 'policySnapshotId'>,
  ) =>
    refuse(
      { db, caller: context.caller, correlationId: context.correlationId },
      { tenantId, action: 'migration.activate', eventType: 'migration.activate', ...refusal, details: { import_id: importId } },
    );
  if (!binding || binding.validFrom > now || (binding.validUntil !== null && binding.validUntil <= now))
    throw await refused({
      reasonClass: 'authority_missing_or_invalid',
      reasonCode: 'authority_binding_not_valid',
      reason: `authority binding ${tenant.authorityBinding} is not valid here now; the tenant is not activated`,
      code: ErrorCode.MissingAuthority,
      ...(binding ? { authoritySnapshotId: binding.snapshotId } : {}),
    });
  const baseline = await db.prisma.policyBaseline.findUnique({ where: { name: tenant.policyBaseline } });
  const snapshot = baseline ? await db.prisma.policySnapshot.findUnique({ where: { id: baseline.currentSnapshotId } }) : null;
  if (!snapshot)
    throw await refused({
      reasonClass: 'policy_denied',
      reasonCode: 'policy_baseline_unknown',
      reason: `policy baseline ${tenant.policyBaseline} has no snapshot here; the tenant is not activated`,
      code: ErrorCode.MissingPolicy,
      authoritySnapshotId: binding.snapshotId,
    });
  const compiled = compilePolicy(snapshot.text);
  if (!compiled.ok)
    throw await refused({
      reasonClass: 'dependency_unavailable_fail_closed',
      reasonCode: 'policy_unparseable',
      reason: `the policy in force does not compile: ${compiled.errors[0]}; the tenant is not activated`,
      code: ErrorCode.DependencyUnavailable,
      authoritySnapshotId: binding.snapshotId,
      policySnapshotId: snapshot.id,
    });

  const workloads = await db.prisma.workload.findMany({ where: { tenantId, status: { in: LIVE } }, orderBy: { id: 'asc' } });
  const decisions: Decision[] = workloads.map((workload) => {
    const image = parseImageRef(workload.imageRef);
    const decision = evaluateAdmission(
      compiled.compiled,
      {
        caller: context.caller.subject,
        tenant: {
          id: tenant.id,
          status: 'active',
          jurisdiction: tenant.jurisdiction,
          ceilingLevel: CLASSIFICATIONS.indexOf(tenant.classificationCeiling as Classification),
        },
        workload: {
          id: workload.id,
          envelope: workload.envelopeType,
          registry: image.registry,
          pinned: image.pinned,
          level: CLASSIFICATIONS.indexOf(workload.classification as Classification),
          jurisdiction: workload.jurisdiction,
          withinTenantJurisdiction: jurisdictionWithin(workload.jurisdiction, tenant.jurisdiction),
        },
      },
      snapshot.id,
    );
    if (decision.decision === 'allow') return { workload };
    if (decision.decision === 'error')
      return {
        workload,
        refusal: {
          reasonClass: 'dependency_unavailable_fail_closed',
          reasonCode: 'policy_evaluation_failed',
          reason: `the policy could not be evaluated: ${decision.errors[0]}`,
          policyIds: [],
          reasons: [],
        },
      };
    const [first] = decision.reasons;
    return {
      workload,
      refusal: {
        reasonClass: first!.reasonClass as RefusalReasonClass,
        reasonCode: first!.reasonCode,
        reason: `workload refused by this deployment's policy at activation: ${decision.reasons.map((reason) => reason.reasonCode).join(', ')}`,
        policyIds: decision.policyIds,
        reasons: decision.reasons.map((reason) => ({ ...reason })),
      },
    };
  });
  const refusedDecisions = decisions.filter((decision) => decision.refusal);
  const snapshots = { authoritySnapshotId: binding.snapshotId, policySnapshotId: snapshot.id };
  const common = { tenantId, actor, correlationId: context.correlationId, ...snapshots };
  const refusalEvents: EvidenceInput[] = refusedDecisions.map(({ workload, refusal }) => ({
    ...common,
    eventType: 'workload.refuse',
    outcome: 'refused',
    refusal: { reasonClass: refusal!.reasonClass, reasonCode: refusal!.reasonCode, subject: 'workload.deploy', reason: refusal!.reason },
    details: {
      workload_id: workload.id,
      migration_import_id: importId,
      envelope_type: workload.envelopeType,
      image_ref: workload.imageRef,
      classification: workload.classification,
      jurisdiction: workload.jurisdiction,
      policy_ids: refusal!.policyIds,
      reasons: refusal!.reasons,
    },
  }));

  const events = await evidenceTransaction(db, tenantId, async (tx) => {
    const locked = await tx.$queryRaw<Array<{ status: string }>>`SELECT status FROM control_tenants WHERE id = ${tenantId} FOR UPDATE`;
    if (locked[0]?.status !== 'importing') throw new EcsError(ErrorCode.Conflict, `tenant ${tenantId} is no longer importing`);
    const ids = refusedDecisions.map((decision) => decision.workload.id);
    if (ids.length > 0) await tx.workload.updateMany({ where: { id: { in: ids }, tenantId }, data: { status: 'failed' } });
    await tx.tenant.update({ where: { id: tenantId }, data: { status: 'active' } });
    const refusalsAppended = await appendEvidenceBatch(tx, refusalEvents);
    const refused = refusedDecisions.map(
      (decision, index): RefusedWorkload => ({
        workload_id: decision.workload.id,
        reason_code: decision.refusal!.reasonCode,
        evidence_pointer: refusalsAppended[index]!.evidence_pointer,
      }),
    );
    const [activation] = await appendEvidenceBatch(tx, [
      {
        ...common,
        eventType: 'migration.activate',
        outcome: 'accepted',
        details: {
          import_id: importId,
          workloads_admitted: decisions.length - refused.length,
          workloads_refused: refused,
        },
      },
    ]);
    return { activation: activation!, refused };
  });
  announceGovernanceChange(db);
  return { evidencePointer: events.activation.evidence_pointer, activatedAt: events.activation.occurred_at, refused: events.refused };
}

function refusedOf(event: JsonObject): RefusedWorkload[] {
  return Array.isArray(event.workloads_refused) ? (event.workloads_refused as RefusedWorkload[]) : [];
}
