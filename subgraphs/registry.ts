import type { Plane } from '../lib/config/config';
import type { PlaneDefinition } from '../lib/subgraph/subgraph-app';
import { auditPlane } from './audit/server';
import { controlPlane } from './control/server';
import { dataPlane } from './data/server';
import { executionPlane } from './execution/server';
import { identityPlane } from './identity/server';

/** Every plane of the supergraph; composition and the gateway both read this list. */
export const PLANE_DEFINITIONS: Record<Plane, PlaneDefinition> = {
  identity: identityPlane,
  control: controlPlane,
  execution: executionPlane,
  data: dataPlane,
  audit: auditPlane,
};
