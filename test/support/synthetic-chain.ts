import type { JsonObject } from '../../lib/evidence/canonical-json';
import { canonicalJson, sha256Digest } from '../../lib/evidence/canonical-json';
import type { EvidenceEvent, EvidenceInput, Refusal } from '../../lib/evidence/evidence-event';
import type { BuiltEvent, DecisionRecord } from '../../lib/evidence/ledger';
import { buildEvent, decisionRecord } from '../../lib/evidence/ledger';

/**
 * Events of one tenant chain built by the ledger's own `buildEvent`, without a database.
 * Consecutive events share a decision (one correlation id, one instant, so one decision
 * record and evidence pointer): at most `distinctRecords` records, so long chains keep the
 * artifact map small, and bundles of them meet repeated pointers.
 */
export interface SyntheticChain {
  events: () => Generator<EvidenceEvent>;
  /** The same events with their canonical text and decision records, as the ledger stores them. */
  built: () => Generator<BuiltEvent>;
  artifacts: Map<string, Uint8Array>;
}

const START = Date.UTC(2026, 0, 1);
const REFUSAL: Refusal = {
  reasonClass: 'policy_denied',
  reasonCode: 'classification_above_ceiling',
  subject: 'workload.deploy',
  reason: 'classification above the tenant ceiling',
};

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
  const perDecision = Math.max(1, Math.ceil(count / distinctRecords));
  /** Decision `k` (0-based): what its events record, and when. */
  const decision = (k: number): { input: EvidenceInput; occurredAt: Date } => {
    const refused = k % refuseEvery === 3;
    return {
      occurredAt: new Date(START + (k + 1) * 1000),
      input: {
        tenantId,
        eventType: refused ? 'workload.admit' : 'workload.deploy',
        actor: 'user-1',
        outcome: refused ? 'refused' : 'accepted',
        correlationId: `corr-${k + 1}`,
        authoritySnapshotId: 'auth-dev-001',
        policySnapshotId: 'ecs-baseline-v1@1',
        ...(refused ? { refusal: REFUSAL } : {}),
      },
    };
  };
  const artifacts = new Map<string, Uint8Array>();
  const records: DecisionRecord[] = [];
  for (let k = 0; k * perDecision < count; k += 1) {
    const { input, occurredAt } = decision(k);
    const record = decisionRecord(input, occurredAt);
    records.push(record);
    artifacts.set(record.pointer, Buffer.from(record.text));
  }
  const declaration = ncp ? ncpArtifact(artifacts) : undefined;

  function* built(): Generator<BuiltEvent> {
    let prevHash: string | undefined;
    for (let sequence = 1; sequence <= count; sequence += 1) {
      const k = Math.floor((sequence - 1) / perDecision);
      const { input, occurredAt } = decision(k);
      const id = `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`;
      const details = declaration && sequence === 2 ? { details: declaration } : {};
      const event = buildEvent({ ...input, ...details }, { id, sequence, prevHash, occurredAt }, records[k]);
      prevHash = event.event.event_hash;
      yield event;
    }
  }
  function* events(): Generator<EvidenceEvent> {
    for (const { event } of built()) yield event;
  }
  return { events, built, artifacts };
}

function ncpArtifact(artifacts: Map<string, Uint8Array>): JsonObject {
  const text = canonicalJson({ nodes: ['customer-root'], edges: [] });
  const digest = sha256Digest(text);
  const ref = `eosc://artifact/${digest}`;
  artifacts.set(ref, Buffer.from(text));
  return { artifact_type: 'authority_graph', artifact_ref: ref, artifact_hash: digest, subject_id: 'integrator-1' };
}
