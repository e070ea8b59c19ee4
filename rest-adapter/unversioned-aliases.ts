import type { RequestHandler } from 'express';
import type { RouteDef } from './route-table';

/** The seed's unversioned paths, still served (deprecated) by the `/v1` routes. */
export const UNVERSIONED_PREFIXES = ['/tenants', '/workloads', '/events'] as const;

/** When the unversioned paths were deprecated (RFC 9745 `Deprecation` date). */
export const UNVERSIONED_DEPRECATED_AT = new Date('2026-11-29T00:00:00Z');

/** The routes reachable without `/v1` (for the OpenAPI document, marked deprecated). */
export function unversionedRoutes(routes: readonly RouteDef[]): RouteDef[] {
  return routes.filter((route) => UNVERSIONED_PREFIXES.some((prefix) => route.path === prefix || route.path.startsWith(`${prefix}/`)));
}

/**
 * Serves `/tenants...`, `/workloads...` and `/events...` as deprecated aliases of their `/v1`
 * routes: same handlers, plus `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a `Link` to
 * the successor. Mount it before the `/v1` router; it rewrites the URL and passes on.
 */
export function unversionedAliases(sunset: Date): RequestHandler {
  const deprecation = `@${Math.floor(UNVERSIONED_DEPRECATED_AT.getTime() / 1000)}`;
  const sunsetHeader = sunset.toUTCString();
  return (req, res, next) => {
    const matches = UNVERSIONED_PREFIXES.some((prefix) => req.path === prefix || req.path.startsWith(`${prefix}/`));
    if (!matches) return next();
    res.setHeader('deprecation', deprecation);
    res.setHeader('sunset', sunsetHeader);
    res.setHeader('link', `</v1${req.path}>; rel="successor-version"`);
    req.url = `/v1${req.url}`;
    next();
  };
}
