import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { bucketLoader } from './bucket';

export const QueryResolvers = {
  bucket: (_: unknown, args: { name: string }, context: PlaneContext) => bucketLoader(context).load(args.name),
};
