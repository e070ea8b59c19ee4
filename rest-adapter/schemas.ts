import { z } from 'zod';
import { CLASSIFICATIONS } from '../lib/domain/classification';

/**
 * Response bodies of the REST surface (snake_case, the spec's names). They feed the OpenAPI
 * document's `components.schemas`; request body schemas live with their routes.
 */
export const schemas = z.registry<{ id: string; description?: string }>();

const classification = z.enum(CLASSIFICATIONS);

export const ErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  evidence_pointer: z.string().optional(),
});
schemas.add(ErrorSchema, {
  id: 'Error',
  description: 'The error body: an ECS_... code, a message, and the evidence pointer of a governed refusal.',
});

export const TenantSchema = z.object({
  id: z.string(),
  authority_binding: z.string(),
  jurisdiction: z.string(),
  classification_ceiling: classification,
  policy_baseline: z.string(),
  status: z.enum(['active', 'suspended', 'deleted', 'importing', 'migrated']),
  /** Where a migrated tenant went (docs/migration.md); present only then. */
  migrated_to: z.string().optional(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
schemas.add(TenantSchema, { id: 'Tenant' });
schemas.add(z.object({ items: z.array(TenantSchema), next_cursor: z.string().optional() }), { id: 'TenantList' });

export const WorkloadSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  envelope_type: z.enum(['container', 'vm']),
  image_ref: z.string(),
  policy_ref: z.string().optional(),
  classification,
  jurisdiction: z.string(),
  status: z.enum(['admitted', 'running', 'failed', 'terminated']),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
schemas.add(WorkloadSchema, { id: 'Workload' });
schemas.add(z.object({ items: z.array(WorkloadSchema), next_cursor: z.string().optional() }), { id: 'WorkloadList' });

export const EvidenceEventSchema = z.looseObject({
  id: z.uuid(),
  event_type: z.string(),
  occurred_at: z.iso.datetime(),
  tenant_id: z.string(),
  actor: z.string(),
  outcome: z.enum(['accepted', 'refused', 'failed']),
  sequence: z.int(),
  evidence_pointer: z.string(),
  correlation_id: z.string().optional(),
  chain_id: z.string(),
  prev_hash: z.string().optional(),
  event_hash: z.string(),
  authority_snapshot_id: z.string().optional(),
  policy_snapshot_id: z.string().optional(),
  refusal_reason_class: z.string().optional(),
  refusal_reason_code: z.string().optional(),
  refusal_subject: z.string().optional(),
  refusal_reason: z.string().optional(),
});
schemas.add(EvidenceEventSchema, {
  id: 'EvidenceEvent',
  description: 'Core10-05 evidence envelope exactly as hashed (RFC 8785 canonical JSON, snake_case), with event-specific fields.',
});
schemas.add(z.object({ items: z.array(EvidenceEventSchema), next_cursor: z.string().optional() }), { id: 'EvidenceEventList' });

export const EvidenceArtifactSchema = z.record(z.string(), z.unknown());
schemas.add(EvidenceArtifactSchema, {
  id: 'EvidenceArtifact',
  description: 'The content of the artifact an evidence pointer names (the decision record); its digest is in the ETag.',
});

const snapshot = z.object({ id: z.string(), version: z.int(), issuer: z.string(), created_at: z.iso.datetime(), text: z.string() });
export const PolicyBaselineSchema = z.object({
  id: z.string(),
  name: z.string(),
  current_snapshot_id: z.string(),
  snapshots: z.array(snapshot),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
schemas.add(PolicyBaselineSchema, { id: 'PolicyBaseline' });
schemas.add(z.object({ items: z.array(PolicyBaselineSchema), next_cursor: z.string().optional() }), { id: 'PolicyBaselineList' });

const bindingVersion = z.object({
  version: z.int(),
  authority_snapshot_id: z.string(),
  subject: z.string(),
  scope: z.array(z.string()),
  issuer: z.string(),
  valid_from: z.iso.datetime(),
  valid_until: z.iso.datetime(),
  proof_ref: z.string().nullable(),
  created_by: z.string(),
  created_at: z.iso.datetime(),
});
export const AuthorityBindingSchema = bindingVersion.extend({ id: z.string(), versions: z.array(bindingVersion).optional() });
schemas.add(AuthorityBindingSchema, { id: 'AuthorityBinding' });
schemas.add(z.object({ items: z.array(AuthorityBindingSchema), next_cursor: z.string().optional() }), { id: 'AuthorityBindingList' });

export const BucketSchema = z.object({
  name: z.string(),
  tenant_id: z.string(),
  jurisdiction: z.string(),
  default_classification: classification,
  versioning: z.boolean(),
  lock_mode: z.enum(['compliance', 'governance']),
  default_retention: z.string().nullable(),
  created_at: z.iso.datetime(),
});
schemas.add(BucketSchema, { id: 'Bucket' });
