import { SUBGRAPH_SCHEMA_FILES } from '../schema-files';
import type { PlaneDefinition } from '../../lib/subgraph/subgraph-app';
import { resolvers } from './resolvers';

/** Identity plane: principals, API keys and authority bindings. */
export const identityPlane: PlaneDefinition = {
  plane: 'identity',
  schemaPath: SUBGRAPH_SCHEMA_FILES.identity,
  resolvers,
};
