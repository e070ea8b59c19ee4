import { DateTimeScalar } from '../../../lib/graphql/date-time';
import type { Resolvers } from '../generated/resolvers-types';
import { ApiKeyResolvers } from './api-key';
import { AuthorityBindingResolvers, AuthorityBindingVersionResolvers } from './authority-binding';
import { MutationResolvers } from './mutation';
import { QueryResolvers } from './query';
import { S3CredentialResolvers } from './s3-credential';
import { TenantResolvers } from './tenant';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: QueryResolvers,
  Mutation: MutationResolvers,
  Tenant: TenantResolvers,
  ApiKey: ApiKeyResolvers,
  S3Credential: S3CredentialResolvers,
  AuthorityBinding: AuthorityBindingResolvers,
  AuthorityBindingVersion: AuthorityBindingVersionResolvers,
};
