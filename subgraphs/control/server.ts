import { SUBGRAPH_SCHEMA_FILES } from '../schema-files';
import type { PlaneDefinition } from '../../lib/subgraph/subgraph-app';
import { resolvers } from './resolvers';

/** Control plane: tenants and their lifecycle. */
export const controlPlane: PlaneDefinition = {
  plane: 'control',
  schemaPath: SUBGRAPH_SCHEMA_FILES.control,
  resolvers,
};
