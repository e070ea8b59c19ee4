// Resolver types of every plane, generated from its schema.graphql by `npm run generate`
// (also run by `npm install`) into subgraphs/<plane>/generated/, which is not committed.
import path from 'node:path';
import type { CodegenConfig } from '@graphql-codegen/cli';
import type { Plane } from './lib/config/config';
import { SUBGRAPH_SCHEMA_FILES } from './subgraphs/schema-files';

/** Where a plane's resolver types are written; resolvers import them from `../generated/resolvers-types`. */
const RESOLVER_TYPES_FILE = 'generated/resolvers-types.ts';

/** The planes that extend `Tenant` know it only by id. */
const TENANT_REFERENCE = '../../../lib/subgraph/tenant-reference#TenantReference';

/**
 * What each plane's resolvers return for a GraphQL type (`module#Type`, the module relative to the
 * generated file), so parents are the data layer's rows rather than the schema's shape. Types not
 * named here are returned in the schema's shape.
 */
const MAPPERS: Record<Plane, Record<string, string>> = {
  identity: {
    Tenant: TENANT_REFERENCE,
    ApiKey: '../data/api-keys#ApiKey',
    S3Credential: '../data/s3-credentials#S3Credential',
    AuthorityBinding: '../data/authority-bindings#AuthorityBinding',
    AuthorityBindingVersion: '../data/authority-bindings#AuthorityBinding',
  },
  control: {
    Tenant: '../data/tenants#Tenant',
    PolicyBaseline: '../data/policy-baselines#PolicyBaseline',
    PolicySnapshot: '../data/policy-baselines#PolicySnapshot',
  },
  execution: {
    Tenant: TENANT_REFERENCE,
    Workload: '../data/workloads#Workload',
  },
  data: {
    Tenant: TENANT_REFERENCE,
    Bucket: '../records/buckets#Bucket',
    StorageObject: '../records/objects#StorageObjectVersion',
  },
  audit: {
    Tenant: TENANT_REFERENCE,
    EvidenceEvent: '../../../lib/evidence/stored-event#StoredEvent',
    EvidenceExport: '../exports/export-store#EvidenceExport',
    MerkleProof: '../data/proofs#MerkleProof',
    MigrationExport: '../../../lib/migration/export-jobs#MigrationExportStatus',
  },
};

const config: CodegenConfig = {
  // Quiet at install time; a failure still says why, and the install fails with it.
  silent: true,
  hooks: { onError: (message: string) => console.error(message) },
  generates: Object.fromEntries(
    (Object.keys(SUBGRAPH_SCHEMA_FILES) as Plane[]).map((plane) => {
      const schema = SUBGRAPH_SCHEMA_FILES[plane];
      return [
        path.join(path.dirname(schema), RESOLVER_TYPES_FILE),
        {
          schema,
          plugins: ['typescript', 'typescript-resolvers'],
          config: {
            federation: true,
            contextType: '../../../lib/subgraph/plane-context#PlaneContext',
            mappers: MAPPERS[plane],
            // Imported as `<Type>Row`, beside the schema's own `<Type>`.
            mapperTypeSuffix: 'Row',
            // The per-type resolver objects of a plane are named `<Type>Resolvers`; the types they satisfy `<Type>ResolverMap`.
            resolverTypeSuffix: 'ResolverMap',
            useTypeImports: true,
            enumsAsTypes: true,
            strictScalars: true,
            scalars: {
              DateTime: { input: 'Date', output: 'Date | string' },
              JSONObject: 'Record<string, unknown>',
              // Federation's `@key(fields:)` argument.
              _FieldSet: 'string',
            },
          },
        },
      ];
    }),
  ),
};

export default config;
