import { EcsError, ErrorCode } from '../../../lib/errors';
import type { MigrationExports, MigrationRequestContext } from '../../../lib/migration/export-jobs';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import type { MigrationExportResolverMap, MutationResolverMap, QueryResolverMap } from '../generated/resolvers-types';

/**
 * `exportTenant` and `migrationExport`: the tenant export jobs of docs/migration.md over
 * GraphQL. The jobs run in the process that serves the gateway and holds the data plane's
 * files (the whole stack in one process), which hands them to this plane; a plane running
 * alone refuses, pointing to the REST route of the gateway process.
 */
function jobsOf(context: PlaneContext): MigrationExports {
  if (context.migrationExports) return context.migrationExports;
  throw new EcsError(
    ErrorCode.DependencyUnavailable,
    'tenant exports run in the process of the gateway and the data plane; this audit plane runs alone: use POST /v1/migrations/exports there',
  );
}

const requestContext = (context: PlaneContext): MigrationRequestContext => ({
  caller: context.caller,
  correlationId: context.correlationId,
});

export const MigrationExportMutationResolvers: Pick<MutationResolverMap, 'exportTenant'> = {
  exportTenant: (_, { input }, context) =>
    jobsOf(context).request(requestContext(context), { tenantId: input.tenantId, scenario: input.scenario ?? 'full' }),
};

export const MigrationExportQueryResolvers: Pick<QueryResolverMap, 'migrationExport'> = {
  async migrationExport(_, { id }, context) {
    try {
      return await jobsOf(context).status(requestContext(context), id);
    } catch (error) {
      if (error instanceof EcsError && error.code === ErrorCode.NotFound) return null;
      throw error;
    }
  },
};

/** The job's REST shape (snake_case) read as the GraphQL type. */
export const MigrationExportResolvers: MigrationExportResolverMap = {
  tenantId: (job) => job.tenant_id,
  requestedAt: (job) => job.requested_at,
  completedAt: (job) => job.completed_at,
  manifestDigest: (job) => job.manifest_digest,
  packageDigest: (job) => job.package_digest,
  packageSize: (job) => job.package_size,
  objectVersions: (job) => job.object_versions,
  refusedItems: (job) => job.refused_items,
  packageUrl: (job) => job.package_url,
  migratedTo: (job) => job.migrated_to,
  cutoverAt: (job) => job.cutover_at,
  cutoverEvidencePointer: (job) => job.cutover_evidence_pointer,
};
