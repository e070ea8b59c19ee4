import { z } from 'zod';
import { schemas } from './schemas';
import { EXPORT_PROFILES } from '../lib/domain/evidence-profiles';

/**
 * Response bodies of the evidence export, NCP declaration and federation claims routes,
 * registered with the other schemas of the OpenAPI document.
 */
export const EvidenceExportSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  chain_id: z.string(),
  evidence_profile_id: z.enum(EXPORT_PROFILES),
  state: z.enum(['queued', 'running', 'completed', 'failed']),
  from_sequence: z.int(),
  to_sequence: z.int(),
  event_count: z.int(),
  events_done: z.int(),
  requested_at: z.iso.datetime(),
  completed_at: z.iso.datetime().optional(),
  requested_by: z.string(),
  evidence_pointer: z.string(),
  bundle_hash: z.string().optional(),
  merkle_root: z.string().optional(),
  key_id: z.string().optional(),
  error: z.string().optional(),
  bundle_url: z.string().optional(),
});
schemas.add(EvidenceExportSchema, {
  id: 'EvidenceExport',
  description: 'An evidence export; bundle_url (GET, application/gzip) once state is completed. The range is fixed at request time.',
});
schemas.add(z.object({ items: z.array(EvidenceExportSchema), next_cursor: z.string().optional() }), { id: 'EvidenceExportList' });

export const NcpDeclarationSchema = z.object({
  artifact_type: z.enum(['authority_graph', 'key_custody_model', 'controlplane_ownership', 'telemetry_egress_map']),
  artifact_ref: z.string(),
  artifact_hash: z.string(),
  event: z.record(z.string(), z.unknown()),
});
schemas.add(NcpDeclarationSchema, {
  id: 'NcpDeclaration',
  description: 'A No-Control Profile declaration: the content-addressed proof artifact and its evidence event.',
});

export const FederationClaimsSchema = z.looseObject({
  claims_version: z.string(),
  provider_id: z.string(),
  api: z.record(z.string(), z.unknown()),
  identity: z.record(z.string(), z.unknown()),
  transport: z.record(z.string(), z.unknown()),
  evidence: z.record(z.string(), z.unknown()),
  storage: z.record(z.string(), z.unknown()),
  policy_enforcement: z.record(z.string(), z.unknown()),
});
schemas.add(FederationClaimsSchema, {
  id: 'FederationClaims',
  description: 'What this deployment supports (ws4 federation claims), built from its running configuration.',
});
