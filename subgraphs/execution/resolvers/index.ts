import { DateTimeScalar } from '../../../lib/graphql/date-time';
import { MutationResolvers } from './mutation';
import { QueryResolvers } from './query';
import { TenantResolvers } from './tenant';
import { WorkloadResolvers } from './workload';

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: QueryResolvers,
  Mutation: MutationResolvers,
  Tenant: TenantResolvers,
  Workload: WorkloadResolvers,
};
