import type { Dispatcher } from 'undici';
import type { GatewayMount } from '../gateway/gateway-app';
import type { IdentityTokens } from '../lib/auth/identity-token';
import type { Plane } from '../lib/config/config';
import { buildAsyncApi } from '../rest-adapter/asyncapi';
import { eventStreamHandler } from '../rest-adapter/event-stream';
import type { EventStreamOptions } from '../rest-adapter/event-stream';
import { createExportBundleRouter } from '../rest-adapter/export-bundle-router';
import { MIGRATION_EXPORTS_MOUNT, createMigrationExportRouter } from '../rest-adapter/migration-export-router';
import type { MigrationExports } from '../lib/migration/export-jobs';
import { MIGRATION_IMPORTS_MOUNT, createMigrationImportRouter } from '../rest-adapter/migration-import-router';
import type { MigrationImports } from '../lib/migration/import-report';
import { createRestRouter } from '../rest-adapter/rest-router';
import { createS3Router } from '../rest-adapter/s3/s3-router';
import { STORAGE_MOUNT, createStorageRouter, isObjectPath } from '../rest-adapter/storage-router';
import { UNVERSIONED_PREFIXES, unversionedAliases } from '../rest-adapter/unversioned-aliases';

export interface RestAdapterOptions {
  identityTokens: IdentityTokens;
  /** GraphQL endpoint of each plane (storage objects and bundles stream from the same origins). */
  subgraphUrl(plane: Plane): string;
  /** The mTLS pool to the planes, for streaming objects and bundles (no overall timeout). */
  dispatcher: Dispatcher;
  /** Sunset date of the deprecated unversioned paths. */
  apiSunset: Date;
  /** The live audit events source for `GET /v1/events/stream` (absent: the route is not served). */
  liveEvents?: Omit<EventStreamOptions, 'db'>;
  /** Where the S3 endpoint answers (`S3_PATH_PREFIX`). */
  s3PathPrefix: string;
  /** Tenant export jobs for `/v1/migrations/exports` (absent: the routes are not served). */
  migrationExports?: MigrationExports;
  /** Tenant import validation for `/v1/migrations/imports` (absent: the routes are not served). */
  migrationImports?: MigrationImports;
}

/** What the gateway must know of the REST adapter before any route runs. */
export function restAdapterPaths(s3PathPrefix: string) {
  return {
    /** Object bodies and import packages stream through and may be gigabytes: an idle timeout, not a body deadline. */
    streamedPath: (path: string) => isObjectPath(path) || path.startsWith(`${s3PathPrefix}/`) || path === MIGRATION_IMPORTS_MOUNT,
    /** The deprecated unversioned paths and the S3 endpoint are rate-limited per address like `/v1`. */
    rateLimitedPrefixes: [...UNVERSIONED_PREFIXES, s3PathPrefix],
  };
}

/**
 * Mounts the REST adapter on the gateway's app, in the order that matters: storage objects
 * and unversioned aliases before the `/v1` router (which would take their paths), the live
 * event stream before `GET /v1/events/:id` (which would take "stream" for an id).
 */
export function mountRestAdapter(gateway: GatewayMount, options: RestAdapterOptions): void {
  const { app, authenticate } = gateway;
  const proxy = { identityTokens: options.identityTokens, subgraphUrl: options.subgraphUrl, dispatcher: options.dispatcher };
  app.use(STORAGE_MOUNT, createStorageRouter({ ...proxy, authenticate }));
  app.use(options.s3PathPrefix, createS3Router({ ...proxy, apollo: gateway.apollo, authenticate }));
  app.use(unversionedAliases(options.apiSunset));
  const asyncApi = JSON.stringify(buildAsyncApi());
  app.get('/v1/asyncapi.json', (_req, res) => {
    res.type('application/json').send(asyncApi);
  });
  if (options.liveEvents) app.get('/v1/events/stream', authenticate, eventStreamHandler({ ...options.liveEvents, db: gateway.db }));
  app.use('/v1/exports', createExportBundleRouter({ ...proxy, authenticate: gateway.authenticateExpensive }));
  if (options.migrationExports)
    app.use(
      MIGRATION_EXPORTS_MOUNT,
      createMigrationExportRouter({
        authenticate,
        authenticateExpensive: gateway.authenticateExpensive,
        exports: options.migrationExports,
      }),
    );
  if (options.migrationImports)
    app.use(
      MIGRATION_IMPORTS_MOUNT,
      createMigrationImportRouter({
        authenticate,
        authenticateExpensive: gateway.authenticateExpensive,
        imports: options.migrationImports,
      }),
    );
  app.use('/v1', createRestRouter({ apollo: gateway.apollo, authenticate, db: gateway.db, boundary: gateway.boundary }));
}
