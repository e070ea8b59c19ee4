import { SUBGRAPH_SCHEMA_FILES } from '../schema-files';
import type { PlaneDefinition } from '../../lib/subgraph/subgraph-app';
import { DEV_ISSUER } from '../../lib/auth/dev-issuer';
import { seedDevelopmentBinding } from './data/authority-bindings';
import { resolvers } from './resolvers';

/** Identity plane: principals, API keys and authority bindings. */
export const identityPlane: PlaneDefinition = {
  plane: 'identity',
  schemaPath: SUBGRAPH_SCHEMA_FILES.identity,
  resolvers,
  /** A new data directory is usable at once: the development authority binding. */
  seed: async ({ db, devIssuerEnabled }) => {
    if (devIssuerEnabled) await seedDevelopmentBinding({ db, issuer: DEV_ISSUER });
  },
};
