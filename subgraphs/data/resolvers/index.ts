import { DateTimeScalar } from '../../../lib/graphql/date-time';
import { BucketResolvers, StorageObjectResolvers } from './bucket';
import { MutationResolvers } from './mutation';
import { QueryResolvers } from './query';
import { TenantResolvers } from './tenant';

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: QueryResolvers,
  Mutation: MutationResolvers,
  Tenant: TenantResolvers,
  Bucket: BucketResolvers,
  StorageObject: StorageObjectResolvers,
};
