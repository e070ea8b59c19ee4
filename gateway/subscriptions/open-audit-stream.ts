import { z } from 'zod';
import { mayPerform, withinTenant } from '../../lib/auth/caller';
import type { Caller } from '../../lib/auth/caller';
import type { Database } from '../../lib/db/database';
import { parseInput } from '../../lib/graphql/parse-input';
import { authorize } from '../../lib/subgraph/authorize';
import type { DeliveryBudget } from '../../lib/evidence/live/delivery-budget';
import type { EvidenceStream } from '../../lib/evidence/live/evidence-stream';
import { parseStreamFilter } from '../../lib/evidence/live/stream-filter';
import type { StreamSubscriber } from '../../lib/evidence/live/stream-subscriber';

/** The arguments of `Subscription.auditEvents` (and of `GET /v1/events/stream`). */
export interface AuditStreamArgs {
  tenantId?: string | null;
  eventTypes?: readonly string[] | null;
  outcomes?: readonly string[] | null;
  afterSequence?: number | null;
}

const afterSequenceSchema = z.object({
  afterSequence: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullish(),
});

/**
 * Opens a live audit stream for a caller: validates the arguments, authorises
 * `evidence.read` on the tenant (a refusal is recorded as evidence and thrown as
 * ECS_FORBIDDEN with its pointer), and re-checks each event's tenant before delivery.
 */
export async function openAuditStream(options: {
  stream: EvidenceStream;
  db: Database;
  caller: Caller;
  correlationId: string;
  args: AuditStreamArgs;
  budget: DeliveryBudget;
  onOverflow(): void;
}): Promise<StreamSubscriber> {
  const { caller, args } = options;
  const filter = parseStreamFilter({ tenantId: args.tenantId, eventTypes: args.eventTypes, outcomes: args.outcomes });
  const { afterSequence } = parseInput(afterSequenceSchema, { afterSequence: args.afterSequence });
  // A tenant's callers read their own chain; platform-wide auditors any chain, or all.
  filter.tenantId ??= caller.tenantId;
  await authorize({ db: options.db, caller, correlationId: options.correlationId }, 'evidence.read', filter.tenantId);
  return options.stream.open({
    filter,
    afterSequence: afterSequence ?? undefined,
    budget: options.budget,
    authorize: (event) => mayPerform(caller, 'evidence.read') && withinTenant(caller, event.tenant_id),
    onOverflow: options.onOverflow,
  });
}
