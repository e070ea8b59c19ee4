import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import type { Experimental_DidResolveQueryPlanCallback } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { Fetcher } from '@apollo/utils.fetcher';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { Express, RequestHandler } from 'express';
import type { IdentityTokens } from '../lib/auth/identity-token';
import { PLANES } from '../lib/config/config';
import type { Plane, RateLimitConfig, RequestBodyConfig } from '../lib/config/config';
import type { Database } from '../lib/db/database';
import { formatGraphQLError } from '../lib/errors';
import { SUPERGRAPH_FILE } from './supergraph-file';
import { errorBody, notFound, sendError } from '../lib/http/error-body';
import { cors } from '../lib/http/cors';
import { HttpMetrics } from '../lib/http/metrics';
import { requestLog } from '../lib/http/request-log';
import { bodyDeadline } from '../lib/http/body-deadline';
import { bodySlots } from './body-slots';

import type { Logger } from '../lib/logger';
import { expensiveRequest } from './cost-limit';
import { DEFAULT_QUERY_LIMITS, queryLimitProtections } from './query-limits';
import type { QueryLimits } from './query-limits';
import { createRateLimiter, rateLimit } from '../lib/http/rate-limit';
import { createRateLimitStore } from '../lib/http/rate-limit-store';
import type { AuthenticatedLocals } from './authenticate';
import type { GatewayContext } from './gateway-context';
import { mayReadMetrics, refuseMetrics } from './metrics-access';
import { operationMetrics } from './operation-metrics';
import { PrincipalConnections } from './subscriptions/principal-connections';
import { inputBoundary, verifyJsonBody } from '../lib/http/input-boundary';
import type { RefusalThrottle } from '../lib/evidence/refusal-throttle';
import { checkReadiness } from './readiness';
import { redisPersistedQueries } from './shared-persisted-queries';
import { SubgraphDataSource } from './subgraph-data-source';
import { persistedOperations } from './persisted-operations';
import { httpSubscriptionRefusal } from './http-subscription-refusal';
import { openIdConfiguration } from './openid-configuration';
import type { TokenIssuerDiscovery } from './openid-configuration';
import type { PersistedOperations } from './persisted-operations';

export interface GatewayAppOptions {
  db: Database;
  /** Public keys of the service's signatures, served at /.well-known/jwks.json. */
  jwks(): { keys: unknown[] };
  /** Who issues accepted tokens, for /.well-known/openid-configuration. @default none (404) */
  tokenIssuer?: TokenIssuerDiscovery;
  log: Logger;
  production: boolean;
  /** Depth, cost, alias, directive and token limits, and introspection (absent: the defaults, introspection unless production). */
  queryLimits?: QueryLimits;
  /** GraphQL endpoint of each plane. */
  subgraphUrl(plane: Plane): string;
  /** Fetch over the mTLS pool to the planes, with the per-call timeout applied. */
  fetcher: Fetcher;
  readinessTimeoutMs: number;
  /** Middleware that authenticates a request or answers 401 (see authenticate.ts). */
  authenticate: RequestHandler;
  /** Bounded evidence for refusals the gateway itself makes (malformed input). */
  throttle: RefusalThrottle;
  identityTokens: IdentityTokens;
  /** Browser origins allowed by CORS. */
  corsOrigins: readonly string[];
  /** Requests per minute per principal and per client address, and the Redis replicas share them through. */
  rateLimit: RateLimitConfig;
  /** How long request bodies may take to arrive, and how many per principal may be arriving at once. */
  requestBodies: RequestBodyConfig;
  /** Observes each query plan (tests use it to see which planes a query touches). */
  onQueryPlan?: Experimental_DidResolveQueryPlanCallback;
  /**
   * Paths whose bodies are streamed by a route mounted later (no JSON body deadline, an idle
   * timeout instead: lib/http/body-deadline.ts). @default none
   */
  streamedPath?(path: string): boolean;
  /** Path prefixes, beside `/graphql` and `/v1`, rate-limited per client address before authentication. @default none */
  rateLimitedPrefixes?: readonly string[];
  /** Persisted operations and the safelist (shared with the websocket). @default automatic persisted queries only */
  persistedOperations?: PersistedOperations;
  /** Browser pages (the GraphQL IDE on a browser's `GET /graphql`, the console), served before the API's limits. @default none */
  browserPages?: RequestHandler;
  /** Mounts further routes (the REST adapter) after GraphQL and before the 404 and error handlers. */
  mountRoutes?(mount: GatewayMount): void;
}

/** What routes mounted on the gateway's app share with it. */
export interface GatewayMount {
  app: Express;
  apollo: ApolloServer<GatewayContext>;
  db: Database;
  /** Authentication, then the principal's rate and body slots, then the request-line boundary. */
  authenticate: RequestHandler;
  /** `authenticate`, then one of the principal's expensive-operation slots (bundle downloads). */
  authenticateExpensive: RequestHandler;
  /** The input boundary (malformed text is refused with evidence). */
  boundary: ReturnType<typeof inputBoundary>;
}

export interface GatewayApp {
  app: Express;
  apollo: ApolloServer<GatewayContext>;
  stop(): Promise<void>;
}

/** Every GraphQL answer is the caller's own: no cache keeps it. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('cache-control', 'no-store');
  next();
};

/** Builds the gateway: Apollo over the committed supergraph, health, metrics and the mount point for further routes. */
export async function createGatewayApp(options: GatewayAppOptions): Promise<GatewayApp> {
  const { log } = options;
  let supergraphLoaded = false;
  // @apollo/gateway otherwise starts a metrics exporter to Apollo's servers and probes
  // cloud metadata endpoints (169.254.169.254, ...): a sovereign gateway sends nothing out.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
    buildService: ({ name }) =>
      new SubgraphDataSource(options.subgraphUrl(name as Plane), options.fetcher, name as Plane, options.identityTokens),
    experimental_didResolveQueryPlan: options.onQueryPlan,
    experimental_didUpdateSupergraph: () => {
      supergraphLoaded = true;
    },
    logger: log.child({ component: 'apollo-gateway' }),
  });
  const limits = options.queryLimits ?? { ...DEFAULT_QUERY_LIMITS, introspection: !options.production };
  // Expensive operations in flight per principal: GraphQL and REST queries (cost-limit.ts)
  // and evidence bundle downloads share the count (the live-event connection counter, reused).
  const expensive = new PrincipalConnections(limits.expensivePerPrincipal);
  const protections = queryLimitProtections(limits, expensive);
  const persisted =
    options.persistedOperations ?? persistedOperations({ manifest: undefined, only: false, db: options.db, throttle: options.throttle });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: limits.introspection,
    includeStacktraceInErrorResponses: false,
    // Apollo's defaults, stated: CSRF prevention on, no batched requests (mutations over GET
    // are always refused).
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Automatic persisted queries (a client sends a document's SHA-256 instead of its text),
    // in a bounded store that also holds the manifest's operations (persisted-manifest.ts).
    persistedQueries: { cache: persisted.cache },
    validationRules: protections.validationRules,
    // The process runner owns SIGTERM/SIGINT and stops servers in order.
    stopOnTerminationSignals: false,
    // Never report usage to Apollo, even when APOLLO_KEY happens to be set. No landing page:
    // Apollo's loads from its CDN; a browser's IDE is GraphiQL from browser-pages.ts, and
    // with the IDE off a browser's GET runs as any GET would.
    // A subscription (in the schema, so tools see it; run only by the websocket) is refused
    // before it is planned, whether its text came with the request or by persisted id.
    // No cache hints either: every answer depends on its caller and says `no-store` (set on
    // the /graphql route below), which spares Apollo's cache-control plugin on every request.
    plugins: [
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      httpSubscriptionRefusal(),
      operationMetrics(),
      ...protections.plugins,
    ],
    formatError: (formatted, error) => formatGraphQLError(formatted, error, (internal) => log.error({ err: internal }, 'gateway error')),
  });
  await apollo.start();
  supergraphLoaded = true;

  const metrics = new HttpMetrics();
  const app = express();
  app.disable('x-powered-by');
  // No ETag computed over every answer (a SHA-1 of each body): routes whose answers have a
  // version of their own (objects, evidence, bundles) set it themselves.
  app.disable('etag');
  app.set('trust proxy', false);
  app.use(requestLog(log, metrics.observe));
  // Before anything else, so no body (authenticated or not) holds a connection past its time.
  const streamedPath = options.streamedPath ?? (() => false);
  app.use(bodyDeadline({ ...options.requestBodies, streamed: (req) => streamedPath(req.path) }));
  app.use(cors(options.corsOrigins));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await checkReadiness({
      db: options.db,
      planes: PLANES,
      healthUrl: (plane) => new URL('/healthz', options.subgraphUrl(plane)).toString(),
      fetcher: options.fetcher,
      supergraphLoaded: () => supergraphLoaded,
      timeoutMs: options.readinessTimeoutMs,
    });
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'unavailable', reasons: report.reasons });
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(options.jwks());
  });
  app.get('/.well-known/openid-configuration', openIdConfiguration(options.tokenIssuer ?? { kind: 'none' }));
  if (options.browserPages) app.use(options.browserPages);
  // Rate limits: per client address before authentication (also bounds credential
  // guessing), per principal after it. Counters live in Redis, shared by replicas, when
  // REDIS_URL is set; otherwise in this process. The store connects once the app is built,
  // so a failure while building it leaves no connection behind.
  const { redisUrl, redisKeyPrefix } = options.rateLimit;
  const store = redisUrl === undefined ? undefined : createRateLimitStore({ url: redisUrl, keyPrefix: redisKeyPrefix, log });
  // The replicas' automatic persisted queries go through the same Redis connection.
  if (store) persisted.cache.shareThrough(redisPersistedQueries(store));
  const addressLimiter = createRateLimiter({ store, points: options.rateLimit.perAddress, keyPrefix: 'address' });
  const principalLimiter = createRateLimiter({ store, points: options.rateLimit.perPrincipal, keyPrefix: 'principal' });
  app.use(
    ['/graphql', '/v1', ...(options.rateLimitedPrefixes ?? [])],
    rateLimit(addressLimiter, (_res, address) => address, log),
  );
  const limitRate = rateLimit(
    principalLimiter,
    (res) => {
      const { caller } = res.locals as Partial<AuthenticatedLocals>;
      return caller ? (caller.apiKeyId ? `key:${caller.apiKeyId}` : `sub:${caller.issuer ?? ''}|${caller.subject}`) : undefined;
    },
    log,
  );
  // A slow body holds a connection: each principal may have only so many arriving at once.
  const limitBodies = bodySlots({
    perPrincipal: options.requestBodies.perPrincipal,
    retryAfterSeconds: Math.ceil(options.requestBodies.timeoutMs / 1000),
  });
  const limitPrincipal: RequestHandler = (req, res, next) =>
    void limitRate(req, res, (error?: unknown) => (error ? next(error) : limitBodies(req, res, next)));
  const boundary = inputBoundary({ db: options.db, throttle: options.throttle, maxTokens: limits.maxTokens });
  // Authenticated, within the principal's rate, and with a path, query and headers the
  // service can carry (input-boundary.ts), in that order.
  const authenticate: RequestHandler = (req, res, next) =>
    options.authenticate(req, res, (error?: unknown) =>
      error
        ? next(error)
        : void limitPrincipal(req, res, (limited?: unknown) => (limited ? next(limited) : boundary.requestLine(req, res, next))),
    );

  app.get('/metrics', authenticate, async (_req, res) => {
    const { caller, requestId } = res.locals as AuthenticatedLocals;
    if (!mayReadMetrics(caller)) {
      sendError(res, await refuseMetrics({ db: options.db, caller, correlationId: requestId }));
      return;
    }
    const scraped = await metrics.scrape();
    res.type(scraped.contentType).send(scraped.text);
  });
  app.use(
    '/graphql',
    authenticate,
    express.json({ limit: '1mb', verify: verifyJsonBody }),
    boundary.graphqlRequest,
    persisted.httpRequest,
    boundary.refuse,
    noStore,
    expressMiddleware(apollo, {
      context: async ({ res }) => {
        const locals = res.locals as AuthenticatedLocals;
        return { requestId: locals.requestId, log: locals.log, caller: locals.caller };
      },
    }),
  );
  const limitExpensive = expensiveRequest(expensive);
  const authenticateExpensive: RequestHandler = (req, res, next) =>
    authenticate(req, res, (error?: unknown) => (error ? next(error) : limitExpensive(req, res, next)));
  options.mountRoutes?.({ app, apollo, db: options.db, authenticate, authenticateExpensive, boundary });
  app.use(notFound);
  app.use(boundary.refuse);
  app.use(errorBody);
  // A replica joins the shared counts from its first request, unless Redis is down (then it
  // waits no longer than the connect timeout).
  await store?.connect();

  return {
    app,
    apollo,
    stop: async () => {
      await apollo.stop();
      await store?.close();
    },
  };
}
