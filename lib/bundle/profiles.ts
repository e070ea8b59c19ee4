/**
 * What each evidence profile (`spec/docs/profiles/evidence-profiles.md`) requires of a
 * bundle's events, as far as an offline verifier can check it, plus the refusal fields of
 * `refusal-semantics.md` and the No-Control Profile's declaration events.
 */
import type { RefusalReasonClass } from '../evidence/evidence-event';

export interface ProfileRules {
  /** Envelope fields every event must carry. */
  required: readonly string[];
  /** Also `prev_hash` on every event after sequence 1. */
  requirePrevHash: boolean;
  /** The only `hash_profile_id` the manifest may declare (and must). */
  hashProfile?: string;
}

const BASELINE = ['id', 'event_type', 'occurred_at', 'tenant_id', 'sequence', 'outcome', 'evidence_pointer'] as const;
const INTEGRITY = ['chain_id', 'event_hash'] as const;

export const PROFILES: Readonly<Record<string, ProfileRules>> = {
  'ecs-evidence-baseline': { required: BASELINE, requirePrevHash: false },
  'ecs-evidence-admissible': { required: [...BASELINE, ...INTEGRITY], requirePrevHash: true, hashProfile: 'ecs-hash-v1' },
  'ecs-evidence-ncp': { required: BASELINE, requirePrevHash: false },
  'ecs-evidence-regulated-ml': { required: BASELINE, requirePrevHash: false, hashProfile: 'ecs-hash-v1' },
};

/** The rules of a known profile id (own keys only: `constructor` is no profile). */
export function profileRules(profileId: unknown): ProfileRules | undefined {
  return typeof profileId === 'string' && Object.hasOwn(PROFILES, profileId) ? PROFILES[profileId] : undefined;
}

export const NCP_PROFILE = 'ecs-evidence-ncp';

export const OUTCOMES = new Set(['accepted', 'refused', 'failed']);

export const REFUSAL_CLASSES: ReadonlySet<RefusalReasonClass> = new Set<RefusalReasonClass>([
  'policy_denied',
  'authority_missing_or_invalid',
  'jurisdiction_denied',
  'delegation_invalid',
  'evidence_precondition_failed',
  'dependency_unavailable_fail_closed',
]);

/** Required on every refused event (classification + correlation). */
export const REFUSAL_FIELDS = ['refusal_reason_class', 'refusal_reason_code', 'refusal_subject', 'correlation_id'] as const;
/** The spec's refusal anchors; a refusal for missing authority cannot always name them. */
export const REFUSAL_ANCHORS = ['policy_snapshot_id', 'authority_snapshot_id'] as const;

/** "Declare"/"publish" events of `no-control-profile.md` that must reference a proof artifact. */
export const NCP_EVENT_TYPES = new Set([
  'authority.graph.publish',
  'key.custody.declare',
  'controlplane.ownership.declare',
  'telemetry.path.audit',
]);

export const NCP_FIELDS = ['artifact_type', 'artifact_ref', 'artifact_hash'] as const;

/** Manifest `artifacts` category listing an NCP artifact: `authority_graph` -> `authority_graphs`. */
export function ncpCategory(artifactType: string): string {
  return `${artifactType}s`;
}
