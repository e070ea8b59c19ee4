import type { JsonObject, JsonValue } from './canonical-json';

export type Outcome = 'accepted' | 'refused' | 'failed';

/** Refusal reason classes of `docs/evidence/refusal-semantics.md`. */
export type RefusalReasonClass =
  | 'policy_denied'
  | 'authority_missing_or_invalid'
  | 'jurisdiction_denied'
  | 'delegation_invalid'
  | 'evidence_precondition_failed'
  | 'dependency_unavailable_fail_closed';

export interface Refusal {
  reasonClass: RefusalReasonClass;
  /** Machine-readable code, e.g. `classification_above_ceiling`. */
  reasonCode: string;
  /** The governed action refused, e.g. `workload.deploy`. */
  subject: string;
  /** Human-readable reason. */
  reason: string;
}

/** What a plane hands to the ledger; the ledger adds ordering, hashes and the pointer. */
export interface EvidenceInput {
  /** Tenant whose chain receives the event; `undefined` for the platform chain. */
  tenantId: string | undefined;
  eventType: string;
  actor: string;
  outcome: Outcome;
  correlationId: string;
  authoritySnapshotId?: string;
  policySnapshotId?: string;
  refusal?: Refusal;
  /** Event-specific fields, stored at the top level of the event (e.g. `workload_id`). */
  details?: JsonObject;
  /** Extra content of the decision record behind the evidence pointer. */
  record?: JsonObject;
  /** The event's id (a UUID); drawn at random when absent. An action whose events refer to each other draws them first. */
  eventId?: string;
}

/** The Core10-05 envelope as stored and hashed (snake_case, canonical JSON). */
export interface EvidenceEvent extends JsonObject {
  id: string;
  event_type: string;
  occurred_at: string;
  tenant_id: string;
  actor: string;
  outcome: Outcome;
  sequence: number;
  evidence_pointer: string;
  correlation_id: string;
  chain_id: string;
  event_hash: string;
  [field: string]: JsonValue;
}

/** Envelope fields a plane's `details` may not override. */
export const ENVELOPE_FIELDS = new Set([
  'id',
  'event_type',
  'occurred_at',
  'tenant_id',
  'actor',
  'outcome',
  'sequence',
  'evidence_pointer',
  'correlation_id',
  'chain_id',
  'prev_hash',
  'event_hash',
  'authority_snapshot_id',
  'policy_snapshot_id',
  'refusal_reason_class',
  'refusal_reason_code',
  'refusal_subject',
  'refusal_reason',
]);

/** `tenant_id` of events in the platform chain; never a valid tenant id. */
export const PLATFORM_TENANT = '_platform';

/** One chain per tenant plus the platform chain (for events with no tenant). */
export function chainIdFor(tenantId: string | undefined): string {
  return tenantId === undefined || tenantId === PLATFORM_TENANT ? 'ecs:platform' : `ecs:tenant:${tenantId}`;
}
