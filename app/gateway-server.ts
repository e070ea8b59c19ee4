import type http from 'node:http';
import type { Experimental_DidResolveQueryPlanCallback } from '@apollo/gateway';
import { browserPages } from '../gateway/browser-pages/browser-pages';
import { createGatewayApp } from '../gateway/gateway-app';
import { ManifestError, PersistedManifest } from '../gateway/persisted-manifest';
import { persistedOperations } from '../gateway/persisted-operations';
import { PrincipalConnections } from '../gateway/subscriptions/principal-connections';
import { attachSubscriptionServer } from '../gateway/subscriptions/websocket-server';
import type { SubscriptionServer } from '../gateway/subscriptions/websocket-server';
import { EvidenceStream } from '../lib/evidence/live/evidence-stream';
import { ConfigError } from '../lib/config/config';
import type { Config, Plane } from '../lib/config/config';
import type { Logger } from '../lib/logger';
import { closeServer, listen } from './close-server';
import { createHttpServer, startS3PortServer } from './http-servers';
import { createGatewayAuth } from './gateway-auth';
import { migrationExportJobs } from './migration/migration-export-jobs';
import { migrationImports as migrationImportService } from './migration/migration-imports';
import { restAdapterPaths, mountRestAdapter } from './rest-adapter-routes';
import { sweepIdempotencyRecordsEvery } from '../rest-adapter/idempotency';
import type { SharedServices } from './shared-services';
import type { MigrationExports } from '../lib/migration/export-jobs';

/** The tenant export jobs of one process (docs/migration.md): the gateway's REST routes and, in one process, the audit plane's GraphQL. */
export function tenantExportJobs(config: Config, services: SharedServices, log: Logger): MigrationExports {
  return migrationExportJobs({
    db: services.db,
    signer: services.keys,
    providerId: config.exports.providerId,
    dataDir: config.dataDir,
    blobDir: config.blobDir,
    perPrincipal: config.exports.perPrincipal,
    refusals: services.throttle,
    log: log.child({ component: 'migration-exports' }),
  });
}

export interface RunningGateway {
  url: string;
  port: number;
  server: http.Server;
  /** The S3 endpoint's own port at its root (`S3_PORT`), when it is set. */
  s3Url?: string;
  /** The live audit events of this process (websocket subscriptions and SSE). */
  stream: EvidenceStream;
  subscriptions: SubscriptionServer;
  close(): Promise<void>;
}

/** Starts the gateway's HTTP server (GraphQL, REST, health, metrics) on `port`. */
export async function startGatewayServer(options: {
  config: Config;
  port: number;
  services: SharedServices;
  log: Logger;
  urlOf(plane: Plane): string;
  onQueryPlan?: Experimental_DidResolveQueryPlanCallback;
  /** The process's tenant export jobs, when the stack made them for its planes too; otherwise the gateway makes its own. */
  migrationExports?: MigrationExports;
}): Promise<RunningGateway> {
  const { config, services } = options;
  const auth = await createGatewayAuth(config, services, options.urlOf);
  const jwks = { keys: [...services.keys.jwks.keys, ...(auth.devIssuer?.jwks.keys ?? [])] };
  const persisted = persistedOperations({
    manifest: loadManifest(config.persistedOperations.manifestFile),
    only: config.persistedOperations.only,
    db: services.db,
    throttle: services.throttle,
  });
  const limits = config.subscriptions;
  const stream = new EvidenceStream({
    db: services.db,
    log: options.log.child({ component: 'evidence-stream' }),
    pollIntervalMs: limits.pollIntervalMs,
  });
  await stream.start();
  const connections = new PrincipalConnections(limits.connectionsPerPrincipal);
  const migrationExports = options.migrationExports ?? tenantExportJobs(config, services, options.log);
  const migrationImports = migrationImportService({
    db: services.db,
    dataDir: config.dataDir,
    blobDir: config.blobDir,
    jurisdictions: config.migration.jurisdictions,
    maxBytes: config.migration.importMaxBytes,
    refusals: services.throttle,
  });
  let gateway;
  try {
    gateway = await createGatewayApp({
      db: services.db,
      jwks: () => jwks,
      tokenIssuer: config.oidc.issuer
        ? { kind: 'external', issuer: config.oidc.issuer }
        : auth.devIssuer
          ? { kind: 'development', issuer: auth.devIssuer.issuer, algorithms: ['ES256'] }
          : { kind: 'none' },
      rateLimit: config.rateLimit,
      requestBodies: config.requestBodies,
      corsOrigins: config.corsOrigins,
      authenticate: auth.authenticate,
      throttle: services.throttle,
      identityTokens: services.identityTokens,
      log: options.log,
      production: config.nodeEnv === 'production',
      queryLimits: config.graphqlLimits,
      persistedOperations: persisted,
      subgraphUrl: options.urlOf,
      fetcher: services.fetcher,
      readinessTimeoutMs: Math.min(config.subgraphTimeoutMs, 5000),
      onQueryPlan: options.onQueryPlan,
      browserPages: browserPages({ ide: config.graphqlIde }),
      ...restAdapterPaths(config.s3.pathPrefix),
      mountRoutes: (mount) =>
        mountRestAdapter(mount, {
          identityTokens: services.identityTokens,
          subgraphUrl: options.urlOf,
          dispatcher: services.agent,
          apiSunset: config.apiSunset,
          s3PathPrefix: config.s3.pathPrefix,
          liveEvents: { stream, connections, bufferEvents: limits.bufferEvents, keepAliveMs: limits.keepAliveMs },
          migrationExports,
          migrationImports,
        }),
    });
  } catch (error) {
    await stream.stop();
    throw error;
  }
  const server = createHttpServer(gateway.app);
  const subscriptions = attachSubscriptionServer({
    server,
    stream,
    db: services.db,
    identify: auth.identify,
    connections,
    limits,
    corsOrigins: config.corsOrigins,
    throttle: services.throttle,
    persisted,
    log: options.log.child({ component: 'subscriptions' }),
  });
  const port = await listen(server, options.port, config.host);
  let s3: { server: http.Server; port: number } | undefined;
  if (config.s3.port !== undefined) {
    try {
      s3 = await startS3PortServer(gateway.app, config, config.s3.port);
    } catch (error) {
      await subscriptions.close();
      await stream.stop();
      await closeServer(server, config.shutdownTimeoutMs);
      await gateway.stop();
      throw error;
    }
  }
  const idempotencySweep = sweepIdempotencyRecordsEvery(services.db, config.idempotencySweepIntervalMs, (error) =>
    options.log.warn({ err: error }, 'idempotency key sweep failed'),
  );
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const urlOf = (at: number) => `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${at}`;
  return {
    url: urlOf(port),
    port,
    ...(s3 ? { s3Url: urlOf(s3.port) } : {}),
    server,
    stream,
    subscriptions,
    close: async () => {
      // Websockets (1001) and SSE streams (event: end) first: they would hold the server open.
      await subscriptions.close();
      await stream.stop();
      await Promise.all([closeServer(server, config.shutdownTimeoutMs), s3 ? closeServer(s3.server, config.shutdownTimeoutMs) : undefined]);
      await idempotencySweep.stop();
      await migrationExports.stop();
      await gateway.stop();
    },
  };
}

/** The persisted-operation manifest, read once at start; a broken one stops the start with its problem named. */
function loadManifest(file: string | undefined): PersistedManifest | undefined {
  if (file === undefined) return undefined;
  try {
    return PersistedManifest.fromFile(file);
  } catch (error) {
    if (error instanceof ManifestError) throw new ConfigError(`GRAPHQL_PERSISTED_MANIFEST: ${error.message}`);
    throw error;
  }
}
