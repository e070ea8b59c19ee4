import { authorityBindingRoutes } from './authority-binding-routes';
import { bucketRoutes } from './bucket-routes';
import { claimsRoutes } from './claims-routes';
import { eventRoutes } from './event-routes';
import { exportRoutes } from './export-routes';
import { ncpRoutes } from './ncp-routes';
import { policyBaselineRoutes } from './policy-baseline-routes';
import type { RouteDef } from './route-table';
import { tenantRoutes } from './tenant-routes';
import { workloadRoutes } from './workload-routes';

/**
 * The REST route table: every `/v1` route, each one GraphQL operation through the gateway.
 * The router and the OpenAPI document are both generated from it.
 */
export const ROUTES: readonly RouteDef[] = [
  ...tenantRoutes,
  ...workloadRoutes,
  ...eventRoutes,
  ...authorityBindingRoutes,
  ...policyBaselineRoutes,
  ...bucketRoutes,
  ...exportRoutes,
  ...ncpRoutes,
  ...claimsRoutes,
];
