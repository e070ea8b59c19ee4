import { DateTimeScalar } from '../../../lib/graphql/date-time';
import type { Resolvers } from '../generated/resolvers-types';
import { BucketResolvers, StorageObjectResolvers } from './bucket';
import { MutationResolvers } from './mutation';
import { QueryResolvers } from './query';
import { TenantResolvers } from './tenant';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: QueryResolvers,
  Mutation: MutationResolvers,
  Tenant: TenantResolvers,
  Bucket: BucketResolvers,
  StorageObject: StorageObjectResolvers,
};
