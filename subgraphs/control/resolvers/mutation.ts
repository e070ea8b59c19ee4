import { z } from 'zod';
import { CLASSIFICATIONS } from '../../../lib/domain/classification';
import { RESOURCE_NAME } from '../../../lib/domain/identifiers';
import { isJurisdiction } from '../../../lib/domain/jurisdiction';
import { parseInput } from '../../../lib/graphql/parse-input';
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
    const input = parseInput(createTenantInput, args.input);
    return createTenant({
      db: context.db,
      data: { ...input, classificationCeiling: input.classificationCeiling ?? 'internal' },
      actor: context.actor,
      correlationId: context.correlationId,
    });
  },
};
