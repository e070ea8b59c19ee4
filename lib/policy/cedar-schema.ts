/**
 * The Cedar schema every policy baseline is validated against. The planes compute the
 * facts (jurisdiction containment, classification levels, the image's registry and digest
 * pinning) and Cedar decides on them, so the decision is deterministic for equal inputs.
 */
export const CEDAR_SCHEMA = `namespace Ecs {
  entity Caller;
  entity Tenant = {
    status: String,
    jurisdiction: String,
    ceilingLevel: Long,
  };
  entity Workload in [Tenant] = {
    envelope: String,
    registry: String,
    pinned: Bool,
    level: Long,
    jurisdiction: String,
    withinTenantJurisdiction: Bool,
  };
  action "workload.deploy" appliesTo {
    principal: Caller,
    resource: Workload,
    context: { tenant: Tenant },
  };
}`;

/** Refusal reason classes a forbid policy may name in `@reason_class`. */
export const POLICY_REASON_CLASSES = ['policy_denied', 'jurisdiction_denied', 'evidence_precondition_failed'] as const;
