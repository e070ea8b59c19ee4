import { SUBGRAPH_SCHEMA_FILES } from '../schema-files';
import type { PlaneDefinition } from '../../lib/subgraph/subgraph-app';
import { resolvers } from './resolvers';

/** Execution plane: workloads and their admission. */
export const executionPlane: PlaneDefinition = {
  plane: 'execution',
  schemaPath: SUBGRAPH_SCHEMA_FILES.execution,
  resolvers,
};
