import { z } from 'zod';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize } from '../../../lib/subgraph/authorize';
import { proveConsistency, proveInclusion, sequenceOfEvent } from '../data/proofs';
import type { MerkleProofResolverMap, QueryResolverMap } from '../generated/resolvers-types';

const size = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);

/** Proof queries: any caller who may read the tenant's evidence. */
export const ProofQueryResolvers: QueryResolverMap = {
  inclusionProof: async (_, args, context) => {
    await authorize(context, 'evidence.read', args.tenantId);
    const input = parseInput(z.object({ sequence: size.nullish(), treeSize: size.nullish() }), {
      sequence: args.sequence,
      treeSize: args.treeSize,
    });
    if ((input.sequence == null) === (args.eventId == null)) {
      throw new EcsError(ErrorCode.ValidationFailed, 'give exactly one of sequence and eventId', { field: 'sequence' });
    }
    const sequence = input.sequence ?? (await sequenceOfEvent({ db: context.db, tenantId: args.tenantId, eventId: args.eventId! }));
    return proveInclusion({
      db: context.db,
      keys: context.keys,
      tenantId: args.tenantId,
      sequence,
      treeSize: input.treeSize ?? undefined,
      signal: context.signal,
    });
  },

  consistencyProof: async (_, args, context) => {
    await authorize(context, 'evidence.read', args.tenantId);
    const input = parseInput(z.object({ fromSize: size, toSize: size.nullish() }), { fromSize: args.fromSize, toSize: args.toSize });
    return proveConsistency({
      db: context.db,
      keys: context.keys,
      tenantId: args.tenantId,
      fromSize: input.fromSize,
      toSize: input.toSize ?? undefined,
      signal: context.signal,
    });
  },
};

export const MerkleProofResolvers: MerkleProofResolverMap = {
  chainId: (proof) => proof.checkpoint.chainId,
};
