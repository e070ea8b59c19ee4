/**
 * `ecs-baseline-v1`: the policy baseline a new data directory starts with (docs/policy.md).
 * Container and VM workloads are admitted within the tenant's jurisdiction and
 * classification ceiling, from allowed registries; images must be pinned by digest from
 * `restricted` upwards, and `restricted`/`secret` workloads need the `vm` envelope
 * (ws3 "Envelope selection rules").
 */
export const BASELINE_V1_NAME = 'ecs-baseline-v1';

export const BASELINE_V1_TEXT = `@id("admit-workload")
permit (principal, action == Ecs::Action::"workload.deploy", resource);

@id("tenant-not-active")
@reason_class("policy_denied")
@reason_code("tenant_not_active")
forbid (principal, action == Ecs::Action::"workload.deploy", resource)
when { context.tenant.status != "active" };

@id("jurisdiction-outside-tenant")
@reason_class("jurisdiction_denied")
@reason_code("jurisdiction_outside_tenant")
forbid (principal, action == Ecs::Action::"workload.deploy", resource)
when { !resource.withinTenantJurisdiction };

@id("classification-above-ceiling")
@reason_class("policy_denied")
@reason_code("classification_above_ceiling")
forbid (principal, action == Ecs::Action::"workload.deploy", resource)
when { resource.level > context.tenant.ceilingLevel };

@id("registry-not-allowed")
@reason_class("policy_denied")
@reason_code("registry_not_allowed")
forbid (principal, action == Ecs::Action::"workload.deploy", resource)
unless { ["registry.example.eu", "harbor.ecs.example.eu", "ghcr.io"].contains(resource.registry) };

@id("digest-required")
@reason_class("evidence_precondition_failed")
@reason_code("image_not_pinned")
forbid (principal, action == Ecs::Action::"workload.deploy", resource)
when { resource.level >= 2 && !resource.pinned };

@id("vm-required")
@reason_class("policy_denied")
@reason_code("vm_envelope_required")
forbid (principal, action == Ecs::Action::"workload.deploy", resource)
when { resource.level >= 2 && resource.envelope != "vm" };
`;
