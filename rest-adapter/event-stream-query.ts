import { z } from 'zod';

/** Query of `GET /v1/events/stream`: the filters of `Subscription.auditEvents`, in the REST names. */
export const eventStreamQuery = z.strictObject({
  tenant: z.string().min(1).optional().describe("Tenant chain; defaults to the caller's tenant, every chain for platform auditors"),
  event_type: z.string().min(1).optional().describe('Event types or families (tenant.*), comma-separated'),
  outcome: z.string().min(1).optional().describe('accepted, refused or failed; comma-separated'),
  after_sequence: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional()
    .describe('Deliver the stored events of the tenant chain after this sequence first (Last-Event-ID takes precedence)'),
});
