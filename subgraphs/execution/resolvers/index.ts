import { DateTimeScalar } from '../../../lib/graphql/date-time';
import type { Resolvers } from '../generated/resolvers-types';
import { MutationResolvers } from './mutation';
import { QueryResolvers } from './query';
import { TenantResolvers } from './tenant';
import { WorkloadResolvers } from './workload';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: QueryResolvers,
  Mutation: MutationResolvers,
  Tenant: TenantResolvers,
  Workload: WorkloadResolvers,
};
