import './js-wasm-inlining';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { CEDAR_SCHEMA } from './cedar-schema';
import type { CompiledPolicy } from './compile-policy';

/** The facts an admission decision is made on (computed by the execution plane). */
export interface AdmissionFacts {
  caller: string;
  tenant: { id: string; status: string; jurisdiction: string; ceilingLevel: number };
  workload: {
    id: string;
    envelope: string;
    registry: string;
    pinned: boolean;
    level: number;
    jurisdiction: string;
    withinTenantJurisdiction: boolean;
  };
}

export interface AdmissionReason {
  policyId: string;
  reasonClass: string;
  reasonCode: string;
}

export type AdmissionDecision =
  | { decision: 'allow'; policyIds: string[] }
  | { decision: 'deny'; policyIds: string[]; reasons: AdmissionReason[] }
  /** Cedar could not evaluate: the caller must fail closed. */
  | { decision: 'error'; errors: string[] };

const SCHEMA_NAME = 'ecs';
let schemaPrepared = false;
const preparedSets = new Set<string>();

/**
 * Parses the schema and a policy set once inside Cedar, under `setId` (a snapshot id never
 * changes, so it is a safe key); later decisions skip re-parsing them.
 */
function prepare(compiled: CompiledPolicy, setId: string): boolean {
  if (!schemaPrepared) schemaPrepared = cedar.preparseSchema(SCHEMA_NAME, CEDAR_SCHEMA).type === 'success';
  if (!preparedSets.has(setId)) {
    if (cedar.preparsePolicySet(setId, { staticPolicies: compiled.policies }).type !== 'success') return false;
    preparedSets.add(setId);
  }
  return schemaPrepared;
}

/**
 * Evaluates `workload.deploy` against a compiled policy set with Cedar. With `setId` (the
 * snapshot id) the schema and policies are parsed once and reused.
 */
export function evaluateAdmission(compiled: CompiledPolicy, facts: AdmissionFacts, setId?: string): AdmissionDecision {
  const tenantUid = { type: 'Ecs::Tenant', id: facts.tenant.id };
  const request: Omit<cedar.StatefulAuthorizationCall, 'preparsedPolicySetId'> = {
    principal: { type: 'Ecs::Caller', id: facts.caller },
    action: { type: 'Ecs::Action', id: 'workload.deploy' },
    resource: { type: 'Ecs::Workload', id: facts.workload.id },
    context: { tenant: { __entity: tenantUid } },
    validateRequest: true,
    entities: [
      { uid: { type: 'Ecs::Caller', id: facts.caller }, attrs: {}, parents: [] },
      {
        uid: tenantUid,
        attrs: { status: facts.tenant.status, jurisdiction: facts.tenant.jurisdiction, ceilingLevel: facts.tenant.ceilingLevel },
        parents: [],
      },
      {
        uid: { type: 'Ecs::Workload', id: facts.workload.id },
        attrs: {
          envelope: facts.workload.envelope,
          registry: facts.workload.registry,
          pinned: facts.workload.pinned,
          level: facts.workload.level,
          jurisdiction: facts.workload.jurisdiction,
          withinTenantJurisdiction: facts.workload.withinTenantJurisdiction,
        },
        parents: [tenantUid],
      },
    ],
  };
  const answer =
    setId !== undefined && prepare(compiled, setId)
      ? cedar.statefulIsAuthorized({ ...request, preparsedSchemaName: SCHEMA_NAME, preparsedPolicySetId: setId })
      : cedar.isAuthorized({ ...request, schema: CEDAR_SCHEMA, policies: { staticPolicies: compiled.policies } });
  if (answer.type === 'failure') return { decision: 'error', errors: answer.errors.map((error) => error.message) };
  const { decision, diagnostics } = answer.response;
  // A policy that errors is skipped by Cedar; an admission decision must not rest on that.
  if (diagnostics.errors.length > 0) {
    return { decision: 'error', errors: diagnostics.errors.map((error) => `${error.policyId}: ${error.error.message}`) };
  }
  const policyIds = [...diagnostics.reason].sort();
  if (decision === 'allow') return { decision: 'allow', policyIds };
  const reasons = policyIds
    .map((policyId) => ({ policyId, meta: compiled.meta[policyId] }))
    .filter((entry) => entry.meta?.effect === 'forbid')
    .map((entry) => ({ policyId: entry.policyId, reasonClass: entry.meta!.reasonClass!, reasonCode: entry.meta!.reasonCode! }));
  if (reasons.length === 0) reasons.push({ policyId: '(no permit)', reasonClass: 'policy_denied', reasonCode: 'no_policy_permits' });
  return { decision: 'deny', policyIds, reasons };
}
