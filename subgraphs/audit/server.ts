import { SUBGRAPH_SCHEMA_FILES } from '../schema-files';
import type { PlaneDefinition } from '../../lib/subgraph/subgraph-app';
import { bundleRoutes } from './exports/bundle-route';
import { startExportWorker } from './exports/export-worker';
import { resolvers } from './resolvers';

/** Audit plane: queries over the evidence log, proofs, NCP declarations and evidence exports. */
export const auditPlane: PlaneDefinition = {
  plane: 'audit',
  schemaPath: SUBGRAPH_SCHEMA_FILES.audit,
  resolvers,
  routes: bundleRoutes,
  background: startExportWorker,
};
