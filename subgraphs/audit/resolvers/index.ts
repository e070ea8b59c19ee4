import { DateTimeScalar } from '../../../lib/graphql/date-time';
import { JSONObjectScalar } from '../../../lib/graphql/json-object';
import type { Resolvers } from '../generated/resolvers-types';
import { EvidenceEventResolvers } from './evidence-event';
import { EvidenceExportResolvers } from './evidence-export';
import { ExportQueryResolvers } from './export-query';
import { MigrationExportMutationResolvers, MigrationExportQueryResolvers, MigrationExportResolvers } from './migration-export';
import { MutationResolvers } from './mutation';
import { MerkleProofResolvers, ProofQueryResolvers } from './proof-query';
import { QueryResolvers } from './query';
import { SubscriptionResolvers } from './subscription';
import { TenantResolvers } from './tenant';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSONObject: JSONObjectScalar,
  Query: { ...QueryResolvers, ...ProofQueryResolvers, ...ExportQueryResolvers, ...MigrationExportQueryResolvers },
  Mutation: { ...MutationResolvers, ...MigrationExportMutationResolvers },
  Subscription: SubscriptionResolvers,
  Tenant: TenantResolvers,
  EvidenceEvent: EvidenceEventResolvers,
  EvidenceExport: EvidenceExportResolvers,
  MerkleProof: MerkleProofResolvers,
  MigrationExport: MigrationExportResolvers,
};
