/**
 * The channels of the spec's AsyncAPI skeleton (docs/interop/asyncapi-events.yaml) as
 * filters of the one live audit stream: subscribing to a channel is subscribing to
 * `auditEvents` (or `GET /v1/events/stream`) with its event types.
 */
import { NCP_DECLARATION_TYPES } from '../../domain/ncp-declarations';
export interface AuditChannel {
  /** Message name in the skeleton. */
  message: string;
  /** Event types or families (`tenant.*`); undefined: every event. */
  eventTypes?: readonly string[];
  description: string;
}

export const AUDIT_CHANNELS: Readonly<Record<string, AuditChannel>> = {
  '/events/audit': {
    message: 'AuditEvent',
    description: 'Every evidence event (the whole audit stream).',
  },
  '/events/tenant': {
    message: 'TenantEvent',
    eventTypes: ['tenant.*'],
    description:
      "Tenant lifecycle: tenant.create, tenant.update, tenant.suspend, tenant.resume, tenant.delete (the skeleton's created, updated, suspended, deleted).",
  },
  '/events/workload': {
    message: 'WorkloadEvent',
    eventTypes: ['workload.*'],
    description:
      "Workload lifecycle: workload.admit, workload.refuse, workload.status.report, workload.terminate (the skeleton's admitted, updated, terminated).",
  },
  '/events/ml': {
    message: 'MlEvidenceEvent',
    eventTypes: ['ml.*'],
    description: 'ML evidence: ml.inference, ml.training.start, ml.training.checkpoint, ml.training.complete (no plane emits them yet).',
  },
  '/events/no-control': {
    message: 'NoControlEvent',
    eventTypes: [...NCP_DECLARATION_TYPES],
    description: 'No-control profile proofs (no plane emits them yet).',
  },
  '/events/media': {
    message: 'AiMediaEvent',
    eventTypes: ['content.*'],
    description: 'AI media evidence: content.marking.*, content.disclosure.*, content.generation.refuse (no plane emits them yet).',
  },
};
