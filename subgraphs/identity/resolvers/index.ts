import { DateTimeScalar } from '../../../lib/graphql/date-time';
import { ApiKeyResolvers } from './api-key';
import { QueryResolvers } from './query';
import { TenantResolvers } from './tenant';

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: QueryResolvers,
  Tenant: TenantResolvers,
  ApiKey: ApiKeyResolvers,
};
