import { randomBytes, randomUUID } from 'node:crypto';
import type { EvidenceInput } from '../../lib/evidence/evidence-event';

const CLASSIFICATIONS = ['public', 'internal', 'restricted', 'confidential'];
const JURISDICTIONS = ['EU', 'EU-DE', 'EU-FR', 'EU-NL'];

/** A `workload.admit` event as `createWorkload` (subgraphs/execution) appends it. */
export function workloadAdmission(tenantId: string, n: number): EvidenceInput {
  return {
    tenantId,
    eventType: 'workload.admit',
    actor: `spiffe://ecs.example.eu/tenant/${tenantId}/sa/deployer-${n % 3}`,
    outcome: 'accepted',
    correlationId: randomUUID(),
    details: {
      action: 'workload.deploy',
      workload_id: randomUUID(),
      envelope_type: n % 5 === 0 ? 'vm' : 'oci-container',
      image_ref: `registry.ecs.example.eu/${tenantId}/service-${n % 17}@sha256:${randomBytes(32).toString('hex')}`,
      classification: CLASSIFICATIONS[n % CLASSIFICATIONS.length]!,
      jurisdiction: JURISDICTIONS[n % JURISDICTIONS.length]!,
    },
  };
}
