import DataLoader from 'dataloader';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findS3CredentialsOfTenants, getS3CredentialsByIds } from '../data/s3-credentials';
import type { S3Credential } from '../data/s3-credentials';
import type { S3CredentialResolverMap } from '../generated/resolvers-types';

export function s3CredentialLoader(context: PlaneContext): DataLoader<string, S3Credential | null> {
  return loaderFor(
    context,
    'identity.s3Credential',
    () => new DataLoader((ids: readonly string[]) => getS3CredentialsByIds({ db: context.db, ids })),
  );
}

export function tenantS3CredentialsLoader(context: PlaneContext): DataLoader<string, S3Credential[]> {
  return loaderFor(
    context,
    'identity.tenantS3Credentials',
    () => new DataLoader((tenantIds: readonly string[]) => findS3CredentialsOfTenants({ db: context.db, tenantIds })),
  );
}

export const S3CredentialResolvers: S3CredentialResolverMap = {
  __resolveReference: async (reference, context) => {
    const credential = await s3CredentialLoader(context).load(reference.id);
    return credential && canSee(context, 'apikey.read', credential.tenantId) ? credential : null;
  },
};
