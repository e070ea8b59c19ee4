import { z } from 'zod';
import { actorOf } from '../../../lib/auth/caller';
import { CLASSIFICATIONS } from '../../../lib/domain/classification';
import { RESOURCE_NAME } from '../../../lib/domain/identifiers';
import { isJurisdiction } from '../../../lib/domain/jurisdiction';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize } from '../../../lib/subgraph/authorize';
import { assertAuthority } from '../../../lib/subgraph/governed-action';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { createTenant } from '../data/tenants';

const createTenantInput = z.object({
  id: z.string().regex(RESOURCE_NAME, 'must be 3-63 lowercase letters, digits or hyphens'),
  authorityBinding: z.string().min(1, 'is required').max(200),
  jurisdiction: z.string().refine(isJurisdiction, 'must be an ISO 3166-1 alpha-2 code, EU or EEA'),
  classificationCeiling: z.enum(CLASSIFICATIONS).nullish(),
  policyBaseline: z.string().min(1, 'is required').max(200),
});

export const MutationResolvers = {
  createTenant: async (_: unknown, args: { input: unknown }, context: PlaneContext) => {
    await authorize(context, 'tenant.create', undefined);
    const input = parseInput(createTenantInput, args.input);
    const authoritySnapshotId = await assertAuthority(context, {
      bindingId: input.authorityBinding,
      action: 'tenant.create',
      tenantId: undefined,
      eventType: 'tenant.create',
    });
    return createTenant({
      db: context.db,
      data: { ...input, classificationCeiling: input.classificationCeiling ?? 'internal' },
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
      authoritySnapshotId,
    });
  },
};
