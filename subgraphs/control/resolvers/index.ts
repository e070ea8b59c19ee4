import { DateTimeScalar } from '../../../lib/graphql/date-time';
import { JSONObjectScalar } from '../../../lib/graphql/json-object';
import type { Resolvers } from '../generated/resolvers-types';
import { MutationResolvers } from './mutation';
import { PolicyBaselineResolvers, PolicySnapshotResolvers } from './policy-baseline';
import { QueryResolvers } from './query';
import { TenantResolvers } from './tenant';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSONObject: JSONObjectScalar,
  Query: QueryResolvers,
  Mutation: MutationResolvers,
  Tenant: TenantResolvers,
  PolicyBaseline: PolicyBaselineResolvers,
  PolicySnapshot: PolicySnapshotResolvers,
};
