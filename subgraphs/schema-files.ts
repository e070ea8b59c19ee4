import path from 'node:path';
import type { Plane } from '../lib/config/config';

/** The schema file of every plane: the one list composition is built from. */
export const SUBGRAPH_SCHEMA_FILES: Record<Plane, string> = {
  identity: path.join(__dirname, 'identity', 'schema.graphql'),
  control: path.join(__dirname, 'control', 'schema.graphql'),
  execution: path.join(__dirname, 'execution', 'schema.graphql'),
  data: path.join(__dirname, 'data', 'schema.graphql'),
  audit: path.join(__dirname, 'audit', 'schema.graphql'),
};
