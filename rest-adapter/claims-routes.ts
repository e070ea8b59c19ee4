import './export-schemas';
import { openApiPath } from './openapi';
import { defineRoute } from './route-table';
import type { RouteDef } from './route-table';
import { ROUTES } from './routes';
import { UNVERSIONED_PREFIXES } from './unversioned-aliases';

/** Paths this adapter serves beside the route table (streams, documents). */
const OTHER_PATHS = [
  'GET /v1/exports/{id}/bundle',
  'GET /v1/events/stream',
  'GET /v1/openapi.json',
  'GET /v1/asyncapi.json',
  'PUT|GET|HEAD|DELETE /v1/storage/{bucket}/objects/{key}',
];

/** What the REST adapter knows and the control plane does not: its own paths. */
function restClaims(): { paths: string[]; exportEndpoints: string[] } {
  const paths = [...ROUTES.map((route) => `${route.method.toUpperCase()} ${openApiPath(route.path)}`), ...OTHER_PATHS];
  const exportEndpoints = [
    ...new Set([
      ...ROUTES.filter((route) => route.tag === 'exports' || route.path === '/events').map((route) => openApiPath(route.path)),
      '/v1/exports/{id}/bundle',
    ]),
  ];
  return { paths, exportEndpoints };
}

type Claims = Record<string, Record<string, unknown>>;

export const claimsRoutes: RouteDef[] = [
  defineRoute({
    method: 'get',
    path: '/federation/claims',
    operationId: 'getFederationClaims',
    summary: 'Federation claims: supported versions, identity, evidence and storage capabilities, limits and enforcement scope',
    tag: 'federation',
    status: 200,
    description: 'OK: built from the running configuration',
    response: 'FederationClaims',
    errors: [],
    handler: async ({ execute }) => {
      const data = await execute<{ federationClaims: Claims }>('query FederationClaims { federationClaims }');
      const claims = data.federationClaims;
      const rest = restClaims();
      return {
        ...claims,
        api: {
          ...claims.api,
          paths: rest.paths,
          deprecated: { ...(claims.api?.deprecated as object), paths: [...UNVERSIONED_PREFIXES] },
          openapi: '/v1/openapi.json',
          asyncapi: '/v1/asyncapi.json',
        },
        evidence: { ...claims.evidence, export_endpoints: rest.exportEndpoints },
      };
    },
  }),
];
