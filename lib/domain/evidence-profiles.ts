/**
 * Evidence profiles the exporter writes (`evidence_profile_id`). The verifier knows one more,
 * `ecs-evidence-regulated-ml`, whose ML events this service does not emit.
 */
export const EXPORT_PROFILES = ['ecs-evidence-baseline', 'ecs-evidence-admissible', 'ecs-evidence-ncp'] as const;
export type ExportProfile = (typeof EXPORT_PROFILES)[number];
