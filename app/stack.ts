import type { Experimental_DidResolveQueryPlanCallback } from '@apollo/gateway';
import { PLANES } from '../lib/config/config';
import type { Config, Plane } from '../lib/config/config';
import type { Logger } from '../lib/logger';
import { startGatewayServer, tenantExportJobs } from './gateway-server';
import type { RunningGateway } from './gateway-server';
import { openSharedServices } from './shared-services';
import type { SharedServices } from './shared-services';
import { startSubgraphServer } from './subgraph-server';
import type { RunningSubgraph } from './subgraph-server';

export interface RunningStack {
  gateway: RunningGateway;
  subgraphs: Record<Plane, RunningSubgraph>;
  services: SharedServices;
  /** Stops accepting, finishes in-flight requests, closes the database. */
  stop(): Promise<void>;
}

/**
 * The whole stack in one process: the five planes on their own loopback mTLS ports
 * (ephemeral), the gateway on `config.port`, one database shared by all.
 */
export async function startStack(
  config: Config,
  log: Logger,
  options: { onQueryPlan?: Experimental_DidResolveQueryPlanCallback } = {},
): Promise<RunningStack> {
  const services = await openSharedServices(config, log);
  const started: RunningSubgraph[] = [];
  const urls = new Map<Plane, string>();
  const urlOf = (plane: Plane): string => {
    const url = urls.get(plane);
    if (!url) throw new Error(`the ${plane} plane is not running`);
    return url;
  };
  // One process runs the tenant export jobs for its gateway's REST routes and its audit plane's GraphQL.
  const migrationExports = tenantExportJobs(config, services, log);
  try {
    for (const plane of PLANES) {
      const subgraph = await startSubgraphServer({
        plane,
        port: 0,
        config,
        services,
        log,
        urlOf,
        ...(plane === 'audit' ? { migrationExports } : {}),
      });
      urls.set(plane, subgraph.url);
      started.push(subgraph);
    }
    const gateway = await startGatewayServer({
      config,
      port: config.port,
      services,
      log,
      urlOf,
      onQueryPlan: options.onQueryPlan,
      migrationExports,
    });
    let stopping: Promise<void> | undefined;
    return {
      gateway,
      subgraphs: Object.fromEntries(started.map((subgraph) => [subgraph.plane, subgraph])) as Record<Plane, RunningSubgraph>,
      services,
      stop: () =>
        (stopping ??= (async () => {
          await gateway.close();
          await Promise.all(started.map((subgraph) => subgraph.close()));
          await services.close();
        })()),
    };
  } catch (error) {
    await Promise.all(started.map((subgraph) => subgraph.close()));
    await services.close();
    throw error;
  }
}
