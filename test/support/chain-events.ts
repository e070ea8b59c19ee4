import type { TestStack } from './test-stack';

const EVENTS = `query($f: EventFilter) { events(filter: $f, first: 1000) {
  items { eventType outcome evidencePointer refusalReasonClass refusalReasonCode refusalSubject policySnapshotId authoritySnapshotId details }
} }`;

/** An event of a tenant chain as the audit plane returns it (the fields the suites assert on). */
export interface ChainEvent {
  eventType: string;
  outcome: string;
  evidencePointer: string;
  refusalReasonClass: string | null;
  refusalReasonCode: string | null;
  refusalSubject: string | null;
  policySnapshotId: string | null;
  authoritySnapshotId: string | null;
  details: Record<string, unknown>;
}

/** The events of a tenant's chain, oldest first, read as the platform administrator. */
export async function chainEvents(env: TestStack, tenantId: string): Promise<ChainEvent[]> {
  const result = await env.gql<{ events: { items: ChainEvent[] } }>(EVENTS, { f: { tenantId } });
  return result.data!.events.items;
}
