import { SUBGRAPH_SCHEMA_FILES } from '../schema-files';
import type { PlaneDefinition } from '../../lib/subgraph/subgraph-app';
import { resolvers } from './resolvers';
import { blobSweepJob } from './storage/blob-sweep';
import { storageRoutes } from './storage/routes';

/** Data plane: buckets and governed storage objects. */
export const dataPlane: PlaneDefinition = {
  plane: 'data',
  schemaPath: SUBGRAPH_SCHEMA_FILES.data,
  resolvers,
  routes: storageRoutes,
  background: blobSweepJob,
};
