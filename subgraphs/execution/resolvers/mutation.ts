import { z } from 'zod';
import { actorOf } from '../../../lib/auth/caller';
import { CLASSIFICATIONS } from '../../../lib/domain/classification';
import { isJurisdiction } from '../../../lib/domain/jurisdiction';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize } from '../../../lib/subgraph/authorize';
import { assertAuthority } from '../../../lib/subgraph/governed-action';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { createWorkload } from '../data/workloads';

const createWorkloadInput = z.object({
  tenantId: z.string().min(1).max(63),
  envelopeType: z.enum(['container', 'vm']),
  imageRef: z
    .string()
    .max(512)
    .regex(/^[a-z0-9][a-z0-9._\-/:]*(@sha256:[a-f0-9]{64})?$/, 'must be an OCI image reference'),
  policyRef: z.string().max(200).nullish(),
  classification: z.enum(CLASSIFICATIONS).nullish(),
  jurisdiction: z.string().refine(isJurisdiction, 'must be an ISO 3166-1 alpha-2 code, EU or EEA'),
});

export const MutationResolvers = {
  createWorkload: async (_: unknown, args: { input: unknown }, context: PlaneContext) => {
    const input = parseInput(createWorkloadInput, args.input);
    await authorize(context, 'workload.deploy', input.tenantId);
    const tenant = await context.planes.assertTenantExists(input.tenantId);
    const authoritySnapshotId = await assertAuthority(context, {
      bindingId: tenant.authorityBinding,
      action: 'workload.deploy',
      tenantId: tenant.id,
      eventType: 'workload.refuse',
    });
    return createWorkload({
      db: context.db,
      data: {
        ...input,
        policyRef: input.policyRef ?? null,
        classification: input.classification ?? 'internal',
      },
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
      authoritySnapshotId,
    });
  },
};
