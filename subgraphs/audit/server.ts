import { SUBGRAPH_SCHEMA_FILES } from '../schema-files';
import type { PlaneDefinition } from '../../lib/subgraph/subgraph-app';
import { resolvers } from './resolvers';

/** Audit plane: queries over the evidence log. */
export const auditPlane: PlaneDefinition = {
  plane: 'audit',
  schemaPath: SUBGRAPH_SCHEMA_FILES.audit,
  resolvers,
};
