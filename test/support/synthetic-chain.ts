import { canonicalJson, contentDigest, sha256Digest } from '../../lib/evidence/canonical-json';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import type { EvidenceEvent } from '../../lib/evidence/evidence-event';

/**
 * Events of one tenant chain built the way the ledger builds them (decision record ->
 * evidence pointer, canonical event, event_hash, prev_hash), without a database. Records
 * repeat every `distinctRecords` events, so long chains keep the artifact map small.
 */
export interface SyntheticChain {
  events: () => Generator<EvidenceEvent>;
  artifacts: Map<string, Uint8Array>;
}

export function syntheticChain({
  tenantId = 'tenant-synthetic',
  count,
  distinctRecords = 50,
  refuseEvery = 7,
  ncp = false,
}: {
  tenantId?: string;
  count: number;
  distinctRecords?: number;
  refuseEvery?: number;
  ncp?: boolean;
}): SyntheticChain {
  const artifacts = new Map<string, Uint8Array>();
  const recordFor = (index: number): string => {
    const record: JsonObject = {
      record_type: 'ecs.decision-record',
      tenant_id: tenantId,
      correlation_id: `corr-${index}`,
      decision: index % refuseEvery === 3 ? 'refused' : 'accepted',
    };
    const text = canonicalJson(record);
    const pointer = `eosc://evidence/${sha256Digest(text)}`;
    artifacts.set(pointer, Buffer.from(text));
    return pointer;
  };
  const pointers = Array.from({ length: Math.min(distinctRecords, count) }, (_, i) => recordFor(i));
  const declaration = ncp ? ncpArtifact(artifacts) : undefined;

  function* events(): Generator<EvidenceEvent> {
    let prev: string | undefined;
    for (let sequence = 1; sequence <= count; sequence += 1) {
      const refused = (sequence - 1) % distinctRecords % refuseEvery === 3;
      const unhashed: JsonObject = {
        id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
        event_type: refused ? 'workload.admit' : 'workload.deploy',
        occurred_at: new Date(Date.UTC(2026, 0, 1) + sequence * 1000).toISOString(),
        tenant_id: tenantId,
        actor: 'user-1',
        outcome: refused ? 'refused' : 'accepted',
        sequence,
        evidence_pointer: pointers[(sequence - 1) % pointers.length]!,
        correlation_id: `corr-${sequence}`,
        chain_id: chainIdFor(tenantId),
        authority_snapshot_id: 'auth-dev-001',
        policy_snapshot_id: 'ecs-baseline-v1@1',
        ...(refused
          ? {
              refusal_reason_class: 'policy_denied',
              refusal_reason_code: 'classification_above_ceiling',
              refusal_subject: 'workload.deploy',
              refusal_reason: 'classification above the tenant ceiling',
            }
          : {}),
        ...(declaration && sequence === 2 ? declaration : {}),
        ...(prev ? { prev_hash: prev } : {}),
      };
      const eventHash = contentDigest(unhashed);
      prev = eventHash;
      yield { ...unhashed, event_hash: eventHash } as EvidenceEvent;
    }
  }
  return { events, artifacts };
}

function ncpArtifact(artifacts: Map<string, Uint8Array>): JsonObject {
  const text = canonicalJson({ nodes: ['customer-root'], edges: [] });
  const digest = sha256Digest(text);
  const ref = `eosc://artifact/${digest}`;
  artifacts.set(ref, Buffer.from(text));
  return { artifact_type: 'authority_graph', artifact_ref: ref, artifact_hash: digest, subject_id: 'integrator-1' };
}
