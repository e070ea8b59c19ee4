import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getEventsByIds } from '../data/events';
import type { StoredEvent } from '../../../lib/evidence/stored-event';
import type { EvidenceEventResolverMap } from '../generated/resolvers-types';

export function eventLoader(context: PlaneContext): DataLoader<string, StoredEvent | null> {
  return loaderFor(context, 'audit.event', () => new DataLoader((ids: readonly string[]) => getEventsByIds({ db: context.db, ids })));
}

/** An envelope field only some events carry (the ledger writes it as text or leaves it out). */
const optionalText =
  (name: string) =>
  (event: StoredEvent): string | null => {
    const value = event.envelope[name];
    return typeof value === 'string' ? value : null;
  };

export const EvidenceEventResolvers: EvidenceEventResolverMap = {
  /** Another tenant's event resolves to nothing (no BOLA through federation). */
  __resolveReference: async (reference, context) => {
    const event = await eventLoader(context).load(reference.id);
    return event && canSee(context, 'evidence.read', event.envelope.tenant_id) ? event : null;
  },
  id: (event) => event.envelope.id,
  eventType: (event) => event.envelope.event_type,
  occurredAt: (event) => event.envelope.occurred_at,
  tenantId: (event) => event.envelope.tenant_id,
  actor: (event) => event.envelope.actor,
  outcome: (event) => event.envelope.outcome,
  sequence: (event) => event.envelope.sequence,
  evidencePointer: (event) => event.envelope.evidence_pointer,
  correlationId: (event) => event.envelope.correlation_id,
  chainId: (event) => event.envelope.chain_id,
  prevHash: optionalText('prev_hash'),
  eventHash: (event) => event.envelope.event_hash,
  authoritySnapshotId: optionalText('authority_snapshot_id'),
  policySnapshotId: optionalText('policy_snapshot_id'),
  refusalReasonClass: optionalText('refusal_reason_class'),
  refusalReasonCode: optionalText('refusal_reason_code'),
  refusalSubject: optionalText('refusal_subject'),
  refusalReason: optionalText('refusal_reason'),
  details: (event) => event.details,
  canonical: (event) => event.canonical,
};
