import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { apiKeyLoader } from './api-key';

export const QueryResolvers = {
  apiKey: (_: unknown, args: { id: string }, context: PlaneContext) => apiKeyLoader(context).load(args.id),
};
