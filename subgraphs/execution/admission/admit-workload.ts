import { CLASSIFICATIONS } from '../../../lib/domain/classification';
import type { Classification } from '../../../lib/domain/classification';
import { jurisdictionWithin } from '../../../lib/domain/jurisdiction';
import { ErrorCode } from '../../../lib/errors';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import { compilePolicy } from '../../../lib/policy/compile-policy';
import type { CompiledPolicy } from '../../../lib/policy/compile-policy';
import { evaluateAdmission } from '../../../lib/policy/evaluate-admission';
import { refuse } from '../../../lib/subgraph/authorize';
import { governAction } from '../../../lib/subgraph/governed-action';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { assertTenantActive } from '../../../lib/subgraph/tenant-guard';
import { parseImageRef } from './image-ref';

export interface WorkloadRequest {
  id: string;
  tenantId: string;
  envelopeType: string;
  imageRef: string;
  /** Absent: `internal`, or the tenant's ceiling when that is lower. */
  classification?: Classification;
  /** Absent: the tenant's jurisdiction. */
  jurisdiction?: string;
}

export interface Admission {
  authoritySnapshotId: string;
  policySnapshotId: string;
  policyIds: string[];
  /** The classification and jurisdiction decided on, defaults from the tenant applied. */
  classification: Classification;
  jurisdiction: string;
}

/** Compiled snapshots by id: a snapshot never changes, so compiling it once is enough. */
const compiledSnapshots = new Map<string, CompiledPolicy>();

const GOVERNED = { action: 'workload.deploy', eventType: 'workload.refuse' } as const;

/**
 * Admission of a workload: the tenant must be active, the tenant's authority binding must
 * cover `workload.deploy`, and the Cedar policy snapshot in force must allow it. Every
 * refusal is evidenced with the snapshots and the Cedar policies that decided; when the
 * policy cannot be fetched, compiled or evaluated, the workload is refused (fail closed).
 */
export async function admitWorkload(context: PlaneContext, asked: WorkloadRequest): Promise<Admission> {
  // The policy is read below, in full (its text decides), and the tenant checked active once its snapshot is known.
  const { tenant, authoritySnapshotId } = await governAction(context, { ...GOVERNED, tenantId: asked.tenantId, requireActive: false });
  // What the client may leave out comes from the tenant: its jurisdiction, and `internal` as
  // the classification, or the tenant's ceiling when that is lower (a default the tenant's own
  // ceiling would refuse is no default). A higher class is asked for, never assumed: from
  // `restricted` up, the policy demands a VM envelope and a pinned image.
  const ceiling = tenant.classificationCeiling as Classification;
  const request = {
    ...asked,
    classification: asked.classification ?? (CLASSIFICATIONS.indexOf(ceiling) < CLASSIFICATIONS.indexOf('internal') ? ceiling : 'internal'),
    jurisdiction: asked.jurisdiction ?? tenant.jurisdiction,
  };
  const failClosed = async (reasonCode: string, reason: string, policySnapshotId?: string) =>
    refuse(context, {
      tenantId: tenant.id,
      ...GOVERNED,
      reasonClass: 'dependency_unavailable_fail_closed',
      reasonCode,
      reason,
      code: ErrorCode.DependencyUnavailable,
      authoritySnapshotId,
      policySnapshotId,
      details: { workload_id: request.id, policy_baseline: tenant.policyBaseline },
    });

  let snapshot: { id: string; text: string } | null;
  try {
    snapshot = await context.planes.currentPolicy(tenant.policyBaseline);
  } catch {
    throw await failClosed('policy_unavailable', 'the policy in force could not be loaded; the workload is refused');
  }
  if (!snapshot)
    throw await failClosed('policy_missing', `policy baseline ${tenant.policyBaseline} does not exist; the workload is refused`);
  await assertTenantActive(context, tenant, GOVERNED, { authoritySnapshotId, policySnapshotId: snapshot.id });
  let compiled = compiledSnapshots.get(snapshot.id);
  if (!compiled) {
    const result = compilePolicy(snapshot.text);
    if (!result.ok) throw await failClosed('policy_unparseable', `the policy in force does not compile: ${result.errors[0]}`, snapshot.id);
    compiled = result.compiled;
    compiledSnapshots.set(snapshot.id, compiled);
  }

  const image = parseImageRef(request.imageRef);
  const facts = {
    caller: context.caller.subject,
    tenant: {
      id: tenant.id,
      status: tenant.status,
      jurisdiction: tenant.jurisdiction,
      ceilingLevel: CLASSIFICATIONS.indexOf(tenant.classificationCeiling as Classification),
    },
    workload: {
      id: request.id,
      envelope: request.envelopeType,
      registry: image.registry,
      pinned: image.pinned,
      level: CLASSIFICATIONS.indexOf(request.classification),
      jurisdiction: request.jurisdiction,
      withinTenantJurisdiction: jurisdictionWithin(request.jurisdiction, tenant.jurisdiction),
    },
  };
  const decision = evaluateAdmission(compiled, facts, snapshot.id);
  if (decision.decision === 'error') {
    throw await failClosed('policy_evaluation_failed', `the policy could not be evaluated: ${decision.errors[0]}`, snapshot.id);
  }
  if (decision.decision === 'deny') {
    const [first] = decision.reasons;
    throw await refuse(context, {
      tenantId: tenant.id,
      ...GOVERNED,
      reasonClass: first!.reasonClass as 'policy_denied',
      reasonCode: first!.reasonCode,
      reason: `workload refused by policy: ${decision.reasons.map((reason) => reason.reasonCode).join(', ')}`,
      code: first!.reasonClass === 'jurisdiction_denied' ? ErrorCode.JurisdictionDenied : ErrorCode.PolicyDenied,
      authoritySnapshotId,
      policySnapshotId: snapshot.id,
      details: {
        workload_id: request.id,
        envelope_type: request.envelopeType,
        image_ref: request.imageRef,
        classification: request.classification,
        jurisdiction: request.jurisdiction,
        policy_ids: decision.policyIds,
        reasons: decision.reasons.map((reason) => ({ ...reason })) as unknown as JsonObject[],
      },
    });
  }
  return {
    authoritySnapshotId,
    policySnapshotId: snapshot.id,
    policyIds: decision.policyIds,
    classification: request.classification,
    jurisdiction: request.jurisdiction,
  };
}
