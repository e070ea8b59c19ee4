import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getEventsByIds } from '../data/events';
import type { StoredEvent } from '../../../lib/evidence/stored-event';

export function eventLoader(context: PlaneContext): DataLoader<string, StoredEvent | null> {
  return loaderFor(
    context,
    'audit.event',
    () => new DataLoader((ids: readonly string[]) => getEventsByIds({ db: context.db, ids })),
  );
}

const field =
  (name: string) =>
  (event: StoredEvent): unknown =>
    event.envelope[name] ?? null;

export const EvidenceEventResolvers = {
  /** Another tenant's event resolves to nothing (no BOLA through federation). */
  __resolveReference: async (reference: { id: string }, context: PlaneContext) => {
    const event = await eventLoader(context).load(reference.id);
    return event && canSee(context, 'evidence.read', event.envelope.tenant_id) ? event : null;
  },
  id: field('id'),
  eventType: field('event_type'),
  occurredAt: field('occurred_at'),
  tenantId: field('tenant_id'),
  actor: field('actor'),
  outcome: field('outcome'),
  sequence: field('sequence'),
  evidencePointer: field('evidence_pointer'),
  correlationId: field('correlation_id'),
  chainId: field('chain_id'),
  prevHash: field('prev_hash'),
  eventHash: field('event_hash'),
  authoritySnapshotId: field('authority_snapshot_id'),
  policySnapshotId: field('policy_snapshot_id'),
  refusalReasonClass: field('refusal_reason_class'),
  refusalReasonCode: field('refusal_reason_code'),
  refusalSubject: field('refusal_subject'),
  refusalReason: field('refusal_reason'),
  details: (event: StoredEvent) => event.details,
  canonical: (event: StoredEvent) => event.canonical,
};
