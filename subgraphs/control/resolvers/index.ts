import { DateTimeScalar } from '../../../lib/graphql/date-time';
import { MutationResolvers } from './mutation';
import { PolicyBaselineResolvers } from './policy-baseline';
import { QueryResolvers } from './query';
import { TenantResolvers } from './tenant';

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: QueryResolvers,
  Mutation: MutationResolvers,
  Tenant: TenantResolvers,
  PolicyBaseline: PolicyBaselineResolvers,
};
