import { z } from 'zod';
import { CLASSIFICATIONS } from '../../../lib/domain/classification';
import { RESOURCE_NAME } from '../../../lib/domain/identifiers';
import { isJurisdiction } from '../../../lib/domain/jurisdiction';
import { actorOf } from '../../../lib/auth/caller';
import { parseInput } from '../../../lib/graphql/parse-input';
import { governAction } from '../../../lib/subgraph/governed-action';
import type { MutationResolverMap } from '../generated/resolvers-types';
import { createBucket } from '../records/buckets';
import { deleteBucketGoverned, enableBucketVersioning, suspendBucketVersioning } from '../storage/bucket-operations';
import { isDuration } from '../storage/parse-governance';

const createBucketInput = z.object({
  name: z.string().regex(RESOURCE_NAME, 'must be 3-63 lowercase letters, digits or hyphens'),
  tenantId: z.string().min(1).max(63),
  jurisdiction: z.string().refine(isJurisdiction, 'must be an ISO 3166-1 alpha-2 code, EU or EEA'),
  defaultClassification: z.enum(CLASSIFICATIONS).nullish(),
  versioning: z.boolean().nullish(),
  lockMode: z.enum(['compliance', 'governance']).nullish(),
  defaultRetention: z
    .string()
    .max(64)
    .refine((value) => isDuration(value), 'must be an ISO 8601 duration such as P30D')
    .nullish(),
});

export const MutationResolvers: MutationResolverMap = {
  createBucket: async (_, args, context) => {
    const input = parseInput(createBucketInput, args.input);
    const { authoritySnapshotId } = await governAction(context, {
      permission: 'storage.write',
      action: 'storage.write',
      eventType: 'storage.bucket.create',
      tenantId: input.tenantId,
    });
    return createBucket({
      db: context.db,
      data: {
        ...input,
        defaultClassification: input.defaultClassification ?? 'internal',
        versioning: input.versioning ?? false,
        lockMode: input.lockMode ?? 'compliance',
        defaultRetention: input.defaultRetention ?? null,
      },
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
      authoritySnapshotId,
    });
  },
  enableBucketVersioning: async (_, args, context) => enableBucketVersioning(context, args.name),
  suspendBucketVersioning: async (_, args, context) => suspendBucketVersioning(context, args.name),
  deleteBucket: async (_, args, context) => {
    const { evidencePointer } = await deleteBucketGoverned(context, args.name);
    return { name: args.name, evidencePointer };
  },
};
