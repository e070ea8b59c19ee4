import { SUBGRAPH_SCHEMA_FILES } from '../schema-files';
import type { PlaneDefinition } from '../../lib/subgraph/subgraph-app';
import { seedBaselineV1 } from './data/policy-baselines';
import { resolvers } from './resolvers';

/** Control plane: tenants and their lifecycle. */
export const controlPlane: PlaneDefinition = {
  plane: 'control',
  schemaPath: SUBGRAPH_SCHEMA_FILES.control,
  resolvers,
  /** A new data directory is usable at once: the baseline ecs-baseline-v1. */
  seed: async ({ db }) => {
    await seedBaselineV1({ db });
  },
};
