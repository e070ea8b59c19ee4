import { z } from 'zod';
import type { EvidenceEvent, Outcome } from '../evidence-event';
import { parseInput } from '../../graphql/parse-input';

/** Which committed events a live stream delivers; every field narrows it. */
export interface StreamFilter {
  /** One tenant's chain (`_platform`: the platform chain); every chain when absent. */
  tenantId?: string;
  /** Event types: exact (`workload.admit`) or a family written with a trailing `.*` (`workload.*`). */
  eventTypes?: string[];
  outcomes?: Outcome[];
}

/** An event type, or a family of them: `tenant.create`, `tenant.*`. */
const EVENT_TYPE_PATTERN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?$/i;

export const streamFilterSchema = z.object({
  tenantId: z.string().min(1).max(63).nullish(),
  eventTypes: z
    .array(z.string().max(100).regex(EVENT_TYPE_PATTERN, 'must be event types like workload.admit or families like workload.*'))
    .min(1)
    .max(50)
    .nullish(),
  outcomes: z
    .array(z.enum(['accepted', 'refused', 'failed']))
    .min(1)
    .max(3)
    .nullish(),
});

/** Validates filter arguments (GraphQL or REST); a bad one is ECS_VALIDATION_FAILED naming the field. */
export function parseStreamFilter(input: unknown): StreamFilter {
  const parsed = parseInput(streamFilterSchema, input);
  return {
    ...(parsed.tenantId ? { tenantId: parsed.tenantId } : {}),
    ...(parsed.eventTypes ? { eventTypes: [...new Set(parsed.eventTypes)] } : {}),
    ...(parsed.outcomes ? { outcomes: [...new Set(parsed.outcomes)] } : {}),
  };
}

/** A predicate for `filter`'s event types and outcomes (the chain is chosen by the stream). */
export function eventMatcher(filter: StreamFilter): (event: Pick<EvidenceEvent, 'event_type' | 'outcome'>) => boolean {
  const exact = new Set(filter.eventTypes?.filter((type) => !type.endsWith('.*')));
  const families = filter.eventTypes?.filter((type) => type.endsWith('.*')).map((type) => type.slice(0, -1)) ?? [];
  const outcomes = filter.outcomes ? new Set<string>(filter.outcomes) : undefined;
  const anyType = filter.eventTypes === undefined;
  return (event) =>
    (outcomes === undefined || outcomes.has(event.outcome)) &&
    (anyType || exact.has(event.event_type) || families.some((family) => event.event_type.startsWith(family)));
}
