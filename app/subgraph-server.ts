import type { Server } from 'node:http';
import type { Config, Plane } from '../lib/config/config';
import type { Logger } from '../lib/logger';
import { createPlaneClient } from '../lib/subgraph/plane-client';
import type { PlaneFetch } from '../lib/subgraph/plane-client';
import { rememberingPlaneClient } from '../lib/subgraph/governance-facts-cache';
import { createSubgraphApp } from '../lib/subgraph/subgraph-app';
import type { SubgraphDependencies } from '../lib/subgraph/subgraph-app';
import { createMtlsServer } from '../lib/tls/mtls';
import { PLANE_DEFINITIONS } from '../subgraphs/registry';
import { closeServer, listen } from './close-server';
import type { SharedServices } from './shared-services';
import type { MigrationExports } from '../lib/migration/export-jobs';

export interface RunningSubgraph {
  plane: Plane;
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts one plane on its own loopback HTTPS port, accepting only the gateway's client certificate. */
export async function startSubgraphServer(options: {
  plane: Plane;
  port: number;
  config: Config;
  services: SharedServices;
  log: Logger;
  /** GraphQL URL of each plane, for calls between planes. */
  urlOf(plane: Plane): string;
  /** The process's tenant export jobs, when it runs them (the whole stack): the audit plane serves them over GraphQL. */
  migrationExports?: MigrationExports;
}): Promise<RunningSubgraph> {
  const { plane, config, services } = options;
  const definition = PLANE_DEFINITIONS[plane];
  await definition.seed?.({ db: services.db, devIssuerEnabled: config.devIssuer.enabled });
  const deps: SubgraphDependencies = {
    db: services.db,
    keys: services.keys,
    identityTokens: services.identityTokens,
    throttle: services.throttle,
    log: options.log,
    production: config.nodeEnv === 'production',
    config,
    ...(options.migrationExports ? { migrationExports: options.migrationExports } : {}),
    planeClient: (requestId, correlationId) =>
      rememberingPlaneClient(
        createPlaneClient({
          self: plane,
          urlOf: options.urlOf,
          fetch: services.fetcher as unknown as PlaneFetch,
          timeoutMs: config.subgraphTimeoutMs,
          requestId,
          correlationId,
          identityTokens: services.identityTokens,
        }),
        services.governanceFacts,
      ),
  };
  const subgraph = await createSubgraphApp(definition, deps);
  const server = createMtlsServer(services.tls, subgraph.app, {
    allowedClientCommonNames: [config.gatewayClientCommonName],
  });
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, options.port, config.subgraphHost);
  const background = definition.background?.({ ...deps, log: options.log.child({ plane }) });
  return {
    plane,
    url: `https://${urlHost(config.subgraphHost)}:${port}/graphql`,
    server,
    close: async () => {
      await background?.stop();
      await closeServer(server, config.shutdownTimeoutMs);
      await subgraph.apollo.stop();
    },
  };
}

/** A wildcard bind address is reached on loopback; the development certificate names 127.0.0.1. */
function urlHost(bindHost: string): string {
  if (bindHost === '0.0.0.0') return '127.0.0.1';
  if (bindHost === '::') return '[::1]';
  return bindHost.includes(':') ? `[${bindHost}]` : bindHost;
}
