import { DateTimeScalar } from '../../../lib/graphql/date-time';
import { JSONObjectScalar } from '../../../lib/graphql/json-object';
import { EvidenceEventResolvers } from './evidence-event';
import { QueryResolvers } from './query';
import { TenantResolvers } from './tenant';

export const resolvers = {
  DateTime: DateTimeScalar,
  JSONObject: JSONObjectScalar,
  Query: QueryResolvers,
  Tenant: TenantResolvers,
  EvidenceEvent: EvidenceEventResolvers,
};
