/**
 * No-Control Profile declaration types (`no-control-profile.md`): each is an event type and
 * references a proof artifact.
 */
export const NCP_DECLARATION_TYPES = [
  'authority.graph.publish',
  'key.custody.declare',
  'controlplane.ownership.declare',
  'telemetry.path.audit',
] as const;
export type NcpDeclarationType = (typeof NCP_DECLARATION_TYPES)[number];
