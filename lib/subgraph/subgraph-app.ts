import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import express from 'express';
import type { Express, Response, Router } from 'express';
import { parse } from 'graphql';
import type { Config, Plane } from '../config/config';
import type { Database } from '../db/database';
import { formatGraphQLError } from '../errors';
import { CursorCodec } from '../graphql/signed-cursor';
import { abandonmentSignal } from '../http/abandonment-signal';
import { inputBoundary, verifyJsonBody } from '../http/input-boundary';
import type { SigningKeys } from '../keys/signing-keys';
import type { Logger } from '../logger';
import type { MigrationExports } from '../migration/export-jobs';
import type { IdentityTokens } from '../auth/identity-token';
import type { RefusalThrottle } from '../evidence/refusal-throttle';
import type { PlaneClient } from './plane-client';
import { requireIdentity } from './require-identity';
import type { IdentifiedLocals } from './require-identity';
import type { PlaneContext } from './plane-context';

/** The resolver map `buildSubgraphSchema` takes (the package exports only the function). */
type SubgraphResolverMap = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']>;

export interface PlaneDefinition {
  plane: Plane;
  /** Absolute path of the plane's `schema.graphql`. */
  schemaPath: string;
  /** The plane's resolvers, typed where they are written by the `Resolvers` generated from its schema. */
  resolvers: Record<string, object>;
  /** Runs once when the plane starts (seeding what a new data directory needs). */
  seed?(options: { db: Database; devIssuerEnabled: boolean }): Promise<void>;
  /**
   * Extra HTTP routes on the plane's mTLS server, mounted under `/<plane>/` behind the same
   * forwarded-identity check as `/graphql` (e.g. the data plane's object byte streams).
   */
  routes?(router: Router, helpers: PlaneRouteHelpers): void;
  /** Periodic work of the plane (e.g. the data plane's orphan blob sweep), stopped on close. */
  background?(deps: SubgraphDependencies): BackgroundJob;
}

export interface BackgroundJob {
  stop(): Promise<void>;
}

export interface PlaneRouteHelpers {
  deps: SubgraphDependencies;
  /** The resolver context of a request that passed the identity check. */
  contextOf(res: Response): PlaneContext;
}

export interface SubgraphDependencies {
  db: Database;
  log: Logger;
  keys: SigningKeys;
  /** Verifies the caller the gateway (or another plane) forwards. */
  identityTokens: IdentityTokens;
  /** Bounded evidence for requests without a valid identity. */
  throttle: RefusalThrottle;
  production: boolean;
  /** Builds the client a request uses to call other planes. */
  planeClient(requestId: string, correlationId: string): PlaneClient;
  /** The process configuration, for planes that need more than the above (e.g. the blob directory). */
  config?: Config;
  /**
   * Tenant export jobs for migration, when this process runs them (the whole stack in one
   * process): the audit plane's `exportTenant` hands them over; absent, it refuses.
   */
  migrationExports?: MigrationExports;
}

export interface SubgraphApp {
  plane: Plane;
  apollo: ApolloServer<PlaneContext>;
  /** Express app serving `POST /graphql` and `GET /healthz`; listen with mTLS. */
  app: Express;
}

const ABANDONMENT = Symbol('abandonment signal');

/**
 * The prototype of every plane context: `signal` is a getter here, not on the context, because
 * Apollo Server copies a context's own properties into a new object for every operation (which
 * would call a getter there at once); the getter it calls is the context's own `[ABANDONMENT]`.
 */
const LAZY_SIGNAL = Object.defineProperty({}, 'signal', {
  get(this: { [ABANDONMENT]: () => AbortSignal }) {
    return this[ABANDONMENT]();
  },
}) as { readonly signal: AbortSignal };

/** Builds a plane's Apollo subgraph and its HTTP app (it does not listen). */
export async function createSubgraphApp(definition: PlaneDefinition, deps: SubgraphDependencies): Promise<SubgraphApp> {
  const log = deps.log.child({ plane: definition.plane });
  const schema = buildSubgraphSchema({
    typeDefs: parse(readFileSync(definition.schemaPath, 'utf8')),
    // The subgraph builder types resolvers with an unknown context; ours receive PlaneContext.
    resolvers: definition.resolvers as SubgraphResolverMap,
  });
  const apollo = new ApolloServer<PlaneContext>({
    schema,
    introspection: !deps.production,
    includeStacktraceInErrorResponses: false,
    // The process runner owns SIGTERM/SIGINT and stops servers in order.
    stopOnTerminationSignals: false,
    // Traces would expose resolver timings to whoever reads the response; none is collected.
    // No landing page: Apollo's loads from its CDN.
    // No cache hints: the gateway answers `no-store`, and Apollo's cache-control plugin would
    // otherwise wrap every field's resolver.
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
    ],
    formatError: (formatted, error) => formatGraphQLError(formatted, error, (internal) => log.error({ err: internal }, 'resolver failed')),
  });
  await apollo.start();
  const cursors = new CursorCodec(deps.keys.derivedSecret('cursor'));

  const contextOf = (res: Response): PlaneContext => {
    const { requestId, correlationId, caller } = res.locals as IdentifiedLocals;
    return Object.assign(Object.create(LAZY_SIGNAL) as { readonly signal: AbortSignal }, {
      // Made when a resolver first asks for `signal` (few do: long reads of the audit plane).
      [ABANDONMENT]: abandonmentSignal(res),
      db: deps.db,
      keys: deps.keys,
      cursors,
      log: log.child({ requestId }),
      requestId,
      correlationId,
      caller,
      planes: deps.planeClient(requestId, correlationId),
      loaders: new Map(),
      refusals: deps.throttle,
      config: deps.config,
      ...(deps.migrationExports ? { migrationExports: deps.migrationExports } : {}),
    });
  };

  // The planes check their input as the gateway does (defence in depth: only the gateway reaches them).
  const boundary = inputBoundary({ db: deps.db, throttle: deps.throttle, maxTokens: 50_000 });
  const app = express();
  app.disable('x-powered-by');
  // Routes with a version of their own (objects, bundles) set their ETag; no SHA-1 of every answer.
  app.disable('etag');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', plane: definition.plane });
  });
  app.use(
    '/graphql',
    requireIdentity(definition.plane, deps),
    express.json({ limit: '1mb', verify: verifyJsonBody }),
    boundary.graphqlRequest,
    boundary.refuse,
    expressMiddleware(apollo, {
      context: async ({ res }) => contextOf(res),
    }),
  );
  if (definition.routes) {
    const router = express.Router();
    definition.routes(router, { deps, contextOf });
    app.use(`/${definition.plane}`, requireIdentity(definition.plane, deps), boundary.requestLine, router, boundary.refuse);
  }
  return { plane: definition.plane, apollo, app };
}
