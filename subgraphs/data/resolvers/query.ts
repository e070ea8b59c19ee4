import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { bucketLoader } from './bucket';

export const QueryResolvers = {
  bucket: async (_: unknown, args: { name: string }, context: PlaneContext) => {
    const bucket = await bucketLoader(context).load(args.name);
    if (bucket) await authorize(context, 'storage.read', bucket.tenantId);
    return bucket;
  },
};
