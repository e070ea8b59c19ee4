import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findApiKeysOfTenants } from '../data/api-keys';
import type { ApiKey } from '../data/api-keys';
import type { TenantResolverMap } from '../generated/resolvers-types';
import { tenantS3CredentialsLoader } from './s3-credential';

function apiKeysLoader(context: PlaneContext): DataLoader<string, ApiKey[]> {
  return loaderFor(
    context,
    'identity.tenantApiKeys',
    () => new DataLoader((tenantIds: readonly string[]) => findApiKeysOfTenants({ db: context.db, tenantIds })),
  );
}

export const TenantResolvers: TenantResolverMap = {
  __resolveReference: (reference) => reference,
  apiKeys: (tenant, _, context) => (canSee(context, 'apikey.read', tenant.id) ? apiKeysLoader(context).load(tenant.id) : []),
  s3Credentials: (tenant, _, context) =>
    canSee(context, 'apikey.read', tenant.id) ? tenantS3CredentialsLoader(context).load(tenant.id) : [],
};
