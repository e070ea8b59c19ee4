import { authorize } from '../../../lib/subgraph/authorize';
import type { QueryResolverMap } from '../generated/resolvers-types';
import { bucketLoader } from './bucket';

export const QueryResolvers: QueryResolverMap = {
  bucket: async (_, args, context) => {
    const bucket = await bucketLoader(context).load(args.name);
    if (bucket) await authorize(context, 'storage.read', bucket.tenantId);
    return bucket;
  },
};
