import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getApiKeysByIds } from '../data/api-keys';
import type { ApiKey } from '../data/api-keys';
import type { ApiKeyResolverMap } from '../generated/resolvers-types';

export function apiKeyLoader(context: PlaneContext): DataLoader<string, ApiKey | null> {
  return loaderFor(context, 'identity.apiKey', () => new DataLoader((ids: readonly string[]) => getApiKeysByIds({ db: context.db, ids })));
}

export const ApiKeyResolvers: ApiKeyResolverMap = {
  __resolveReference: async (reference, context) => {
    const key = await apiKeyLoader(context).load(reference.id);
    return key && canSee(context, 'apikey.read', key.tenantId) ? key : null;
  },
};
