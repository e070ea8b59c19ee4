import { ConfigError, PLANES, defaultSubgraphPort, loadConfig } from '../lib/config/config';
import type { Config, Plane } from '../lib/config/config';
import { createLogger } from '../lib/logger';
import type { Logger } from '../lib/logger';
import { startGatewayServer } from './gateway-server';
import { startedByPackageScript, watchParent } from './parent-watch';
import { openSharedServices } from './shared-services';
import { startStack } from './stack';
import { startSubgraphServer } from './subgraph-server';

type Mode = { kind: 'all' } | { kind: 'gateway' } | { kind: 'subgraph'; plane: Plane };

/** Parses `[all | gateway | subgraph <plane>]`. */
export function parseMode(args: readonly string[]): Mode {
  const [kind = 'all', plane] = args;
  if (kind === 'all') return { kind };
  if (kind === 'gateway') return { kind };
  if (kind === 'subgraph') {
    if (!plane || !(PLANES as readonly string[]).includes(plane)) {
      throw new ConfigError(`subgraph: name one plane of ${PLANES.join(', ')} (npm run start:subgraph -- control)`);
    }
    return { kind, plane: plane as Plane };
  }
  throw new ConfigError(`unknown mode "${kind}": use all, gateway or subgraph <plane>`);
}

/** Runs a mode until SIGTERM/SIGINT, then shuts down gracefully and exits 0. */
export async function runProcess(args: readonly string[]): Promise<void> {
  let config: Config;
  let mode: Mode;
  try {
    mode = parseMode(args);
    config = loadConfig();
    if (mode.kind !== 'all' && !config.databaseUrl) {
      throw new ConfigError(
        'DATABASE_URL: separate gateway and subgraph processes share a PostgreSQL server; the embedded database belongs to one process (use npm start)',
      );
    }
  } catch (error) {
    console.error(`configuration error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const log = createLogger({ level: config.logLevel, name: mode.kind === 'subgraph' ? `ecs-${mode.plane}` : 'ecs-gateway' });
  // Signals are handled from the first moment: a SIGTERM during start-up waits for the
  // start to finish and then stops cleanly.
  let resolveStop: (stop: () => Promise<void>) => void = () => undefined;
  const stopReady = new Promise<() => Promise<void>>((resolve) => {
    resolveStop = resolve;
  });
  const stopOnSignal = onSignals(log, async () => (await stopReady)());
  if (startedByPackageScript()) watchParent(() => stopOnSignal('parent exited'));
  try {
    resolveStop(await start(mode, config, log));
  } catch (error) {
    log.fatal({ err: error }, 'start-up failed');
    console.error(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

async function start(mode: Mode, config: Config, log: Logger): Promise<() => Promise<void>> {
  const started = Date.now();
  if (mode.kind === 'all') {
    const stack = await startStack(config, log);
    printUrls(stack.gateway.url, Date.now() - started, stack.services.db.kind, stack.gateway.s3Url);
    return stack.stop;
  }
  const services = await openSharedServices(config, log);
  const urlOf = (plane: Plane): string => config.subgraphUrls[plane];
  if (mode.kind === 'gateway') {
    const gateway = await startGatewayServer({ config, port: config.port, services, log, urlOf });
    printUrls(gateway.url, Date.now() - started, services.db.kind, gateway.s3Url);
    return async () => {
      await gateway.close();
      await services.close();
    };
  }
  const subgraph = await startSubgraphServer({
    plane: mode.plane,
    port: config.subgraphPort ?? defaultSubgraphPort(mode.plane),
    config,
    services,
    log,
    urlOf,
  });
  console.log(`ECS ${mode.plane} plane listening on ${subgraph.url} (mutual TLS)`);
  return async () => {
    await subgraph.close();
    await services.close();
  };
}

function printUrls(base: string, ms: number, database: string, s3Url?: string): void {
  console.log(
    [
      `ECS Gateway ready in ${ms} ms (database: ${database})`,
      `  GraphQL      POST/GET ${base}/graphql`,
      `  REST         ${base}/v1/...`,
      `  Live events  ${base.replace(/^http/, 'ws')}/graphql (graphql-transport-ws)  SSE ${base}/v1/events/stream`,
      `  Health       ${base}/healthz  ${base}/readyz`,
      `  Metrics      ${base}/metrics`,
      `  JWKS         ${base}/.well-known/jwks.json`,
      ...(s3Url ? [`  S3           ${s3Url}`] : []),
    ].join('\n'),
  );
}

/** Installs SIGTERM/SIGINT handlers; returns the handler, to stop the same way on other causes. */
function onSignals(log: Logger, stop: () => Promise<void>): (signal: NodeJS.Signals | 'parent exited') => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals | 'parent exited'): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return handler;
}
