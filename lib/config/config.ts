import path from 'node:path';
import { z } from 'zod';
import { isJurisdiction } from '../domain/jurisdiction';

/** The five planes, in the order their default ports are assigned. */
export const PLANES = ['identity', 'control', 'execution', 'data', 'audit'] as const;
export type Plane = (typeof PLANES)[number];

/** First default port of the subgraphs when they run as separate processes. */
export const DEFAULT_SUBGRAPH_BASE_PORT = 4101;

const port = z.coerce
  .number({ error: 'must be a port number from 0 to 65535' })
  .int('must be a port number from 0 to 65535')
  .min(0, 'must be a port number from 0 to 65535')
  .max(65535, 'must be a port number from 0 to 65535');
const positiveMs = z.coerce
  .number({ error: 'must be a number of milliseconds from 1 to 3600000' })
  .int('must be a whole number of milliseconds')
  .min(1, 'must be at least 1 ms')
  .max(3_600_000, 'must be at most 3600000 ms (one hour)');

const tlsFileVariables = [
  'TLS_CA_FILE',
  'TLS_SERVER_CERT_FILE',
  'TLS_SERVER_KEY_FILE',
  'TLS_CLIENT_CERT_FILE',
  'TLS_CLIENT_KEY_FILE',
] as const;

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(4000),
  DATA_DIR: z.string().min(1).default('./.data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'a postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number({ error: 'must be a number from 1 to 200' }).int().min(1).max(200).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: positiveMs.default(5000),
  EVIDENCE_WAITERS_PER_CHAIN: z.coerce.number({ error: 'must be a number from 1 to 100000' }).int().min(1).max(100_000).default(1024),
  GOVERNANCE_FACTS_TTL_MS: z.coerce
    .number({ error: 'must be a number of milliseconds from 0 to 300000' })
    .int()
    .min(0)
    .max(300_000)
    .default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SUBGRAPH_HOST: z.string().min(1).default('127.0.0.1'),
  SUBGRAPH_PORT: port.optional(),
  SUBGRAPH_URLS: z.string().optional(),
  SUBGRAPH_TIMEOUT_MS: positiveMs.default(10_000),
  GATEWAY_CLIENT_CN: z.string().min(1).default('ecs-gateway'),
  SHUTDOWN_TIMEOUT_MS: positiveMs.default(10_000),
  SIGNING_KEYS_FILE: z.string().min(1).optional(),
  OIDC_ISSUER: z.string().url('must be the issuer URL exactly as in the tokens').optional(),
  OIDC_JWKS_URI: z.string().url('must be a URL').optional(),
  OIDC_JWKS_FILE: z.string().min(1).optional(),
  OIDC_AUDIENCE: z.string().min(1).default('ecs-gateway'),
  OIDC_ALGORITHMS: z
    .string()
    .regex(
      /^(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA)(,(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA))*$/,
      'must be a comma list of asymmetric JWS algorithms (RS256, PS256, ES256, EdDSA, ...)',
    )
    .default('RS256,PS256,ES256,EdDSA'),
  OIDC_TOKEN_TYPES: z.string().min(1).default('at+jwt'),
  OIDC_CLOCK_SKEW_S: z.coerce.number({ error: 'must be seconds from 0 to 300' }).int().min(0).max(300).default(30),
  OIDC_MAX_TOKEN_AGE_S: z.coerce.number({ error: 'must be seconds' }).int().min(1).optional(),
  OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  OIDC_TENANT_CLAIM: z.string().min(1).default('tenant_id'),
  OIDC_JURISDICTION_CLAIM: z.string().min(1).default('jurisdiction'),
  API_KEY_CACHE_MS: z.coerce.number({ error: 'must be milliseconds from 0 to 60000' }).int().min(0).max(60_000).default(5000),
  TOKEN_CACHE_MS: z.coerce.number({ error: 'must be milliseconds from 0 to 60000' }).int().min(0).max(60_000).default(60_000),
  REFUSAL_EVIDENCE_WINDOW_MS: z.coerce
    .number({ error: 'must be milliseconds from 100 to 3600000' })
    .int()
    .min(100)
    .max(3_600_000)
    .default(60_000),
  REFUSAL_EVIDENCE_PER_SOURCE: z.coerce.number({ error: 'must be a number of events from 1 to 1000' }).int().min(1).max(1000).default(5),
  REFUSAL_EVIDENCE_PER_CHAIN: z.coerce
    .number({ error: 'must be a number of events from 1 to 100000' })
    .int()
    .min(1)
    .max(100_000)
    .default(60),
  API_KEYS_PER_TENANT: z.coerce.number({ error: 'must be a number of keys from 1 to 100000' }).int().min(1).max(100_000).default(100),
  DEV_ISSUER: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  TLS_CA_FILE: z.string().min(1).optional(),
  TLS_SERVER_CERT_FILE: z.string().min(1).optional(),
  TLS_SERVER_KEY_FILE: z.string().min(1).optional(),
  TLS_CLIENT_CERT_FILE: z.string().min(1).optional(),
  TLS_CLIENT_KEY_FILE: z.string().min(1).optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number({ error: 'must be requests per minute' }).int().min(1).default(600),
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: z.coerce.number({ error: 'must be requests per minute' }).int().min(1).default(1200),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL')
    .optional(),
  RATE_LIMIT_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be 1-100 letters, digits, dots, colons, underscores or hyphens')
    .default('ecs-rl'),
  CORS_ORIGINS: z
    .string()
    .regex(/^https?:\/\/[^\s,/]+(,\s*https?:\/\/[^\s,/]+)*$/, 'must be a comma list of origins like https://portal.example.eu')
    .optional(),
  API_SUNSET: z.iso.date('must be a date (YYYY-MM-DD)').optional(),
  S3_PATH_PREFIX: z
    .string()
    .regex(/^\/[a-z0-9-]{1,32}$/, 'must be a path prefix like /s3')
    .default('/s3'),
  S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'must be a region name like us-east-1')
    .default('us-east-1'),
  S3_PORT: port.optional(),
  BODY_TIMEOUT_MS: positiveMs.default(10_000),
  BODY_IDLE_TIMEOUT_MS: positiveMs.default(30_000),
  IN_FLIGHT_BODIES_PER_PRINCIPAL: z.coerce
    .number({ error: 'must be a number of requests from 1 to 10000' })
    .int()
    .min(1)
    .max(10_000)
    .default(20),
  MAX_OBJECT_BYTES: z.coerce
    .number({ error: 'must be a number of bytes' })
    .int()
    .min(1)
    .default(5 * 1024 ** 3),
  GRAPHQL_MAX_DEPTH: z.coerce.number({ error: 'must be a whole number' }).int().min(1).default(6),
  GRAPHQL_MAX_ALIASES: z.coerce.number({ error: 'must be a whole number' }).int().min(1).default(15),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number({ error: 'must be a whole number' }).int().min(1).default(50),
  GRAPHQL_MAX_TOKENS: z.coerce.number({ error: 'must be a whole number' }).int().min(1).default(1000),
  GRAPHQL_MAX_COST: z.coerce.number({ error: 'must be a whole number' }).int().min(1).default(50_000),
  EXPENSIVE_OPERATIONS_PER_PRINCIPAL: z.coerce
    .number({ error: 'must be a number of operations from 1 to 1000' })
    .int()
    .min(1)
    .max(1000)
    .default(2),
  GRAPHQL_INTROSPECTION: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  GRAPHQL_IDE: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  GRAPHQL_PERSISTED_MANIFEST: z.string().optional(),
  GRAPHQL_PERSISTED_ONLY: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  SUBSCRIPTION_BUFFER: z.coerce.number({ error: 'must be a number of events from 1 to 100000' }).int().min(1).max(100_000).default(1000),
  SUBSCRIPTIONS_PER_PRINCIPAL: z.coerce
    .number({ error: 'must be a number of connections from 1 to 10000' })
    .int()
    .min(1)
    .max(10_000)
    .default(20),
  SUBSCRIPTIONS_PER_CONNECTION: z.coerce
    .number({ error: 'must be a number of subscriptions from 1 to 1000' })
    .int()
    .min(1)
    .max(1000)
    .default(25),
  SUBSCRIPTION_KEEPALIVE_MS: positiveMs.default(12_000),
  SUBSCRIPTION_POLL_MS: positiveMs.default(5000),
  EXPORTS_PER_PRINCIPAL: z.coerce.number({ error: 'must be a number of exports from 1 to 100' }).int().min(1).max(100).default(2),
  EXPORT_MAX_EVENTS: z.coerce
    .number({ error: 'must be a number of events from 1 to 100000000' })
    .int()
    .min(1)
    .max(100_000_000)
    .default(10_000_000),
  EXPORT_POLL_MS: positiveMs.default(2000),
  EXPORT_STALE_MS: positiveMs.default(60_000),
  PROVIDER_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be 1-100 letters, digits, dots, colons, underscores or hyphens')
    .default('ecs-provider'),
  MIGRATION_JURISDICTIONS: z
    .string()
    .refine(
      (value) => value.split(',').every((code) => isJurisdiction(code.trim())),
      'must be a comma-separated list of ISO 3166-1 alpha-2 codes, EU or EEA',
    )
    .optional(),
  MIGRATION_IMPORT_MAX_BYTES: z.coerce
    .number({ error: 'must be a number of bytes from 1024 to 1099511627776' })
    .int()
    .min(1024)
    .max(1024 ** 4)
    .default(16 * 1024 ** 3),
  BLOB_SWEEP_INTERVAL_MS: z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(0).default(3_600_000),
  IDEMPOTENCY_SWEEP_INTERVAL_MS: positiveMs.default(3_600_000),
  BLOB_SWEEP_GRACE_MS: z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(0).default(3_600_000),
});

export interface TlsFilesConfig {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** All configuration of a process, read and validated once at start-up. */
/** Limits of GraphQL operations at the gateway (gateway/query-limits.ts). */
export interface GraphqlLimitsConfig {
  /** Deepest selection nesting, fragments flattened. */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexer tokens of one document; checked before it is parsed any further. */
  maxTokens: number;
  /** Estimated cost of one operation (query-cost.ts: graphql-armor's estimate, page sizes and expensive fields). */
  maxCost: number;
  /** Expensive operations one principal may have in flight (cost-limit.ts). */
  expensivePerPrincipal: number;
  /** Schema introspection; off by default when NODE_ENV=production. */
  introspection: boolean;
}

/** Persisted operations of the GraphQL endpoint (gateway/persisted-operations.ts, docs/security.md). */
export interface PersistedOperationsConfig {
  /** A manifest of operations clients may send by id (`GRAPHQL_PERSISTED_MANIFEST`): Apollo's format or an id-to-document JSON object. */
  manifestFile: string | undefined;
  /** Run only the manifest's operations (`GRAPHQL_PERSISTED_ONLY`, default false). */
  only: boolean;
}

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  databaseConnectTimeoutMs: number;
  /** Transactions that may wait per evidence chain and process (`Database.serialize`); beyond it 503. */
  evidenceWaitersPerChain: number;
  /** How long a process may remember a tenant's facts, an authority decision or the policy in force (0: never). */
  governanceFactsTtlMs: number;
  logLevel: string;
  subgraphHost: string;
  /** Port of a subgraph run as its own process; `undefined` means the plane's default. */
  subgraphPort: number | undefined;
  /** Where the gateway reaches each plane when the subgraphs run as separate processes. */
  subgraphUrls: Record<Plane, string>;
  subgraphTimeoutMs: number;
  gatewayClientCommonName: string;
  shutdownTimeoutMs: number;
  /** Certificate files; `undefined` means a development PKI under `<dataDir>/pki`. */
  tlsFiles: TlsFilesConfig | undefined;
  pkiDir: string;
  /** Private JWK set of the service's signing keys (checkpoints, bundles, cursors). */
  signingKeysFile: string;
  oidc: OidcConfig;
  rateLimit: RateLimitConfig;
  /** Origins of portals allowed to call the API from a browser (exact match). */
  corsOrigins: string[];
  /** Sunset date of the deprecated unversioned paths; at least six months ahead. */
  apiSunset: Date;
  /** How long the gateway remembers an API key lookup (a revocation takes effect within it). */
  apiKeyCacheMs: number;
  /**
   * The S3 endpoint: path-style requests under `pathPrefix` (`S3_PATH_PREFIX`, /s3), signed for
   * `region` (`S3_REGION`, us-east-1), and at the bare root of `port` when set (`S3_PORT`).
   */
  s3: { pathPrefix: string; region: string; port: number | undefined };
  /** How long the gateway remembers a bearer token it verified (never past its `exp`); 0: never. */
  tokenCacheMs: number;
  /** Live (unrevoked, unexpired) API keys a tenant may hold; another is refused (`API_KEYS_PER_TENANT`). @default 100 */
  apiKeysPerTenant: number;
  /**
   * Bounded evidence of repeated refusals: per window, one event per client address and
   * reason for unauthenticated requests, `perSource` per principal, target, action and
   * reason (authority refusals, malformed input), at most `perChain` in any chain; the rest
   * are counted in the next event (`REFUSAL_EVIDENCE_WINDOW_MS` 60000,
   * `REFUSAL_EVIDENCE_PER_SOURCE` 5, `REFUSAL_EVIDENCE_PER_CHAIN` 60).
   */
  refusalEvidence: { windowMs: number; perSource: number; perChain: number };
  /** How long a request body may take to arrive, and how many may be arriving at once per principal. */
  requestBodies: RequestBodyConfig;
  /** The development token issuer: on unless an external issuer is configured or DEV_ISSUER=false. */
  devIssuer: { enabled: boolean; keyFile: string };
  /** Content-addressed storage object bytes (`<dataDir>/blobs`). */
  blobDir: string;
  /** Largest storage object accepted, in bytes (`MAX_OBJECT_BYTES`, default 5 GiB). */
  maxObjectBytes: number;
  /** Live audit events (graphql-ws on `/graphql`, SSE on `/v1/events/stream`); see docs/subscriptions.md. */
  subscriptions: SubscriptionConfig;
  /**
   * Orphan blob sweep on the data plane: every `BLOB_SWEEP_INTERVAL_MS` (0 = only at start),
   * blobs and temporary files untouched for `BLOB_SWEEP_GRACE_MS` that no metadata refers to go.
   */
  blobSweep: { intervalMs: number; graceMs: number };
  /** Idempotency keys older than their 24 hours are deleted by each gateway every `IDEMPOTENCY_SWEEP_INTERVAL_MS` (and at start). */
  idempotencySweepIntervalMs: number;
  /**
   * Abuse limits of the public GraphQL endpoint (`GRAPHQL_MAX_DEPTH` 6, `_ALIASES` 15,
   * `_DIRECTIVES` 50, `_TOKENS` 1000, `_COST` 50,000) and introspection (`GRAPHQL_INTROSPECTION`;
   * default on, off when NODE_ENV=production). `expensivePerPrincipal`: expensive queries
   * (chain reads, large pages) and bundle downloads one principal may have in flight per
   * gateway process; more are 429 (`EXPENSIVE_OPERATIONS_PER_PRINCIPAL`, default 2).
   */
  graphqlLimits: GraphqlLimitsConfig;
  /** Automatic persisted queries, a manifest of operations and the safelist that runs only those. */
  persistedOperations: PersistedOperationsConfig;
  /** GraphiQL for browsers at `GET /graphql` (`GRAPHQL_IDE`; default on, off when NODE_ENV=production). */
  graphqlIde: boolean;
  /** Evidence exports (docs/exports.md). */
  exports: ExportConfig;
  /** Tenant migration imports (docs/migration.md). */
  migration: MigrationConfig;
}

export interface MigrationConfig {
  /** Jurisdictions this deployment serves for imported tenants (`MIGRATION_JURISDICTIONS`); undefined: any. A country is served within a served EU or EEA. */
  jurisdictions: string[] | undefined;
  /** Largest uploaded import package (`MIGRATION_IMPORT_MAX_BYTES`); larger is 413. @default 17179869184 (16 GiB) */
  importMaxBytes: number;
}

/** Request rate limits of the gateway (lib/http/rate-limit.ts). */
export interface RateLimitConfig {
  /** Requests per minute per principal, token subject or API key (`RATE_LIMIT_PER_MINUTE`). @default 600 */
  perPrincipal: number;
  /** Requests per minute per client address, before authentication (`RATE_LIMIT_PER_ADDRESS_PER_MINUTE`). @default 1200 */
  perAddress: number;
  /**
   * Redis through which gateway replicas share their counters (`REDIS_URL`). Unset, or while it
   * cannot be reached, each process counts on its own, in memory.
   */
  redisUrl: string | undefined;
  /** Start of every counter's key in Redis (`RATE_LIMIT_REDIS_PREFIX`), so deployments can share one. @default ecs-rl */
  redisKeyPrefix: string;
}

export interface RequestBodyConfig {
  /** A JSON body (REST `/v1`, `/graphql`; at most 1 MB) must arrive whole within this (`BODY_TIMEOUT_MS`). @default 10000 */
  timeoutMs: number;
  /** A streamed storage upload may pause this long between bytes, however long it takes in all (`BODY_IDLE_TIMEOUT_MS`). @default 30000 */
  idleTimeoutMs: number;
  /** Request bodies arriving at once per principal, per gateway process (`IN_FLIGHT_BODIES_PER_PRINCIPAL`); more are 429. @default 20 */
  perPrincipal: number;
}

export interface ExportConfig {
  /** Exports queued or running at once per principal; more are 429 (`EXPORTS_PER_PRINCIPAL`). @default 2 */
  perPrincipal: number;
  /** Most events in one export; a larger range is refused (`EXPORT_MAX_EVENTS`). @default 10000000 */
  maxEvents: number;
  /** How often each audit plane looks for queued exports (`EXPORT_POLL_MS`). @default 2000 */
  pollIntervalMs: number;
  /** A running export whose worker has been silent this long is taken over (`EXPORT_STALE_MS`). @default 60000 */
  staleAfterMs: number;
  /** Who issues the evidence: `provider_id` and `producer_identity.issuer_id` of bundles (`PROVIDER_ID`). @default ecs-provider */
  providerId: string;
}

export interface SubscriptionConfig {
  /** Events that may wait for one slow connection before it is closed (`SUBSCRIPTION_BUFFER`). @default 1000 */
  bufferEvents: number;
  /** Open websocket and SSE connections per principal, per gateway process (`SUBSCRIPTIONS_PER_PRINCIPAL`). @default 20 */
  connectionsPerPrincipal: number;
  /** Subscriptions on one websocket (`SUBSCRIPTIONS_PER_CONNECTION`). @default 25 */
  perConnection: number;
  /** Websocket ping / SSE comment interval (`SUBSCRIPTION_KEEPALIVE_MS`). @default 12000 */
  keepAliveMs: number;
  /** How often chain heads are checked in case a notification was lost (`SUBSCRIPTION_POLL_MS`). @default 5000 */
  pollIntervalMs: number;
}

export interface OidcConfig {
  /** External issuer; `undefined` when only the development issuer and API keys are trusted. */
  issuer: string | undefined;
  jwksUri: string | undefined;
  jwksFile: string | undefined;
  audience: string;
  algorithms: string[];
  tokenTypes: string[];
  clockSkewSeconds: number;
  maxTokenAgeSeconds: number | undefined;
  claims: { roles: string; tenant: string; jurisdiction: string };
}

/** A configuration problem, reported as one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function defaultSubgraphPort(plane: Plane): number {
  return DEFAULT_SUBGRAPH_BASE_PORT + PLANES.indexOf(plane);
}

function parseSubgraphUrls(raw: string | undefined, host: string): Record<Plane, string> {
  const urls = Object.fromEntries(PLANES.map((plane) => [plane, `https://${host}:${defaultSubgraphPort(plane)}/graphql`])) as Record<
    Plane,
    string
  >;
  if (!raw) return urls;
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [plane, url] = entry.split('=', 2) as [string, string | undefined];
    if (!(PLANES as readonly string[]).includes(plane) || !url || !/^https:\/\/\S+$/.test(url)) {
      throw new ConfigError(`SUBGRAPH_URLS: "${entry}" is not <plane>=https://host:port/graphql with plane one of ${PLANES.join(', ')}`);
    }
    urls[plane as Plane] = url;
  }
  return urls;
}

function parseTlsFiles(env: z.infer<typeof environmentSchema>): TlsFilesConfig | undefined {
  const given = tlsFileVariables.filter((name) => env[name] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length !== tlsFileVariables.length) {
    const missing = tlsFileVariables.filter((name) => env[name] === undefined);
    throw new ConfigError(`${missing.join(', ')}: set all of ${tlsFileVariables.join(', ')} or none`);
  }
  return {
    caFile: env.TLS_CA_FILE!,
    serverCertFile: env.TLS_SERVER_CERT_FILE!,
    serverKeyFile: env.TLS_SERVER_KEY_FILE!,
    clientCertFile: env.TLS_CLIENT_CERT_FILE!,
    clientKeyFile: env.TLS_CLIENT_KEY_FILE!,
  };
}

const SIX_MONTHS_MS = 183 * 24 * 3600 * 1000;

/** The sunset of the deprecated paths: seven months from now unless set; never under six months ahead. */
function parseSunset(value: string | undefined): Date {
  if (value === undefined) return new Date(Date.now() + 7 * 31 * 24 * 3600 * 1000);
  const sunset = new Date(`${value}T00:00:00Z`);
  if (sunset.getTime() - Date.now() < SIX_MONTHS_MS) {
    throw new ConfigError(`API_SUNSET: must be at least six months ahead (got ${value})`);
  }
  return sunset;
}

function parseOidc(env: z.infer<typeof environmentSchema>): OidcConfig {
  if (env.OIDC_ISSUER !== undefined && env.OIDC_JWKS_URI === undefined && env.OIDC_JWKS_FILE === undefined) {
    throw new ConfigError('OIDC_JWKS_URI: set it (or OIDC_JWKS_FILE) with OIDC_ISSUER');
  }
  if (env.OIDC_ISSUER === undefined && (env.OIDC_JWKS_URI !== undefined || env.OIDC_JWKS_FILE !== undefined)) {
    throw new ConfigError('OIDC_ISSUER: required when OIDC_JWKS_URI or OIDC_JWKS_FILE is set');
  }
  if (env.OIDC_ISSUER !== undefined && env.DEV_ISSUER === 'true') {
    throw new ConfigError('DEV_ISSUER: the development issuer is off whenever OIDC_ISSUER is configured');
  }
  return {
    issuer: env.OIDC_ISSUER,
    jwksUri: env.OIDC_JWKS_URI,
    jwksFile: env.OIDC_JWKS_FILE === undefined ? undefined : path.resolve(env.OIDC_JWKS_FILE),
    audience: env.OIDC_AUDIENCE,
    algorithms: env.OIDC_ALGORITHMS.split(','),
    tokenTypes: env.OIDC_TOKEN_TYPES.split(',')
      .map((type) => type.trim())
      .filter(Boolean),
    clockSkewSeconds: env.OIDC_CLOCK_SKEW_S,
    maxTokenAgeSeconds: env.OIDC_MAX_TOKEN_AGE_S,
    claims: { roles: env.OIDC_ROLES_CLAIM, tenant: env.OIDC_TENANT_CLAIM, jurisdiction: env.OIDC_JURISDICTION_CLAIM },
  };
}

function parsePersistedOperations(env: z.infer<typeof environmentSchema>): PersistedOperationsConfig {
  const only = env.GRAPHQL_PERSISTED_ONLY === 'true';
  if (only && env.GRAPHQL_PERSISTED_MANIFEST === undefined) {
    throw new ConfigError('GRAPHQL_PERSISTED_MANIFEST: required when GRAPHQL_PERSISTED_ONLY=true (the safelist is the manifest)');
  }
  return { manifestFile: env.GRAPHQL_PERSISTED_MANIFEST === undefined ? undefined : path.resolve(env.GRAPHQL_PERSISTED_MANIFEST), only };
}

/** Reads and validates the environment; throws a `ConfigError` naming the first bad variable. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`${variable}: ${issue.message} (got ${JSON.stringify(present[variable])})`);
  }
  const env = parsed.data;
  const dataDir = path.resolve(env.DATA_DIR);
  return {
    nodeEnv: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    dataDir,
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    databaseConnectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    evidenceWaitersPerChain: env.EVIDENCE_WAITERS_PER_CHAIN,
    governanceFactsTtlMs: env.GOVERNANCE_FACTS_TTL_MS,
    logLevel: env.LOG_LEVEL,
    subgraphHost: env.SUBGRAPH_HOST,
    subgraphPort: env.SUBGRAPH_PORT,
    subgraphUrls: parseSubgraphUrls(env.SUBGRAPH_URLS, env.SUBGRAPH_HOST),
    subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
    gatewayClientCommonName: env.GATEWAY_CLIENT_CN,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    tlsFiles: parseTlsFiles(env),
    pkiDir: path.join(dataDir, 'pki'),
    signingKeysFile: path.resolve(env.SIGNING_KEYS_FILE ?? path.join(dataDir, 'keys', 'signing-keys.json')),
    oidc: parseOidc(env),
    apiKeyCacheMs: env.API_KEY_CACHE_MS,
    tokenCacheMs: env.TOKEN_CACHE_MS,
    apiKeysPerTenant: env.API_KEYS_PER_TENANT,
    refusalEvidence: {
      windowMs: env.REFUSAL_EVIDENCE_WINDOW_MS,
      perSource: env.REFUSAL_EVIDENCE_PER_SOURCE,
      perChain: env.REFUSAL_EVIDENCE_PER_CHAIN,
    },
    requestBodies: {
      timeoutMs: env.BODY_TIMEOUT_MS,
      idleTimeoutMs: env.BODY_IDLE_TIMEOUT_MS,
      perPrincipal: env.IN_FLIGHT_BODIES_PER_PRINCIPAL,
    },
    apiSunset: parseSunset(env.API_SUNSET),
    s3: { pathPrefix: env.S3_PATH_PREFIX, region: env.S3_REGION, port: env.S3_PORT },
    corsOrigins: env.CORS_ORIGINS ? env.CORS_ORIGINS.split(',').map((origin) => origin.trim()) : [],
    rateLimit: {
      perPrincipal: env.RATE_LIMIT_PER_MINUTE,
      perAddress: env.RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
      redisUrl: env.REDIS_URL,
      redisKeyPrefix: env.RATE_LIMIT_REDIS_PREFIX,
    },
    devIssuer: {
      enabled: env.OIDC_ISSUER === undefined && env.DEV_ISSUER !== 'false',
      keyFile: path.join(dataDir, 'keys', 'dev-issuer.json'),
    },
    blobDir: path.join(dataDir, 'blobs'),
    maxObjectBytes: env.MAX_OBJECT_BYTES,
    subscriptions: {
      bufferEvents: env.SUBSCRIPTION_BUFFER,
      connectionsPerPrincipal: env.SUBSCRIPTIONS_PER_PRINCIPAL,
      perConnection: env.SUBSCRIPTIONS_PER_CONNECTION,
      keepAliveMs: env.SUBSCRIPTION_KEEPALIVE_MS,
      pollIntervalMs: env.SUBSCRIPTION_POLL_MS,
    },
    blobSweep: { intervalMs: env.BLOB_SWEEP_INTERVAL_MS, graceMs: env.BLOB_SWEEP_GRACE_MS },
    idempotencySweepIntervalMs: env.IDEMPOTENCY_SWEEP_INTERVAL_MS,
    graphqlLimits: {
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxAliases: env.GRAPHQL_MAX_ALIASES,
      maxDirectives: env.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: env.GRAPHQL_MAX_TOKENS,
      maxCost: env.GRAPHQL_MAX_COST,
      expensivePerPrincipal: env.EXPENSIVE_OPERATIONS_PER_PRINCIPAL,
      introspection: env.GRAPHQL_INTROSPECTION === undefined ? env.NODE_ENV !== 'production' : env.GRAPHQL_INTROSPECTION === 'true',
    },
    persistedOperations: parsePersistedOperations(env),
    graphqlIde: env.GRAPHQL_IDE === undefined ? env.NODE_ENV !== 'production' : env.GRAPHQL_IDE === 'true',
    exports: {
      perPrincipal: env.EXPORTS_PER_PRINCIPAL,
      maxEvents: env.EXPORT_MAX_EVENTS,
      pollIntervalMs: env.EXPORT_POLL_MS,
      staleAfterMs: env.EXPORT_STALE_MS,
      providerId: env.PROVIDER_ID,
    },
    migration: {
      jurisdictions: env.MIGRATION_JURISDICTIONS?.split(',').map((code) => code.trim()),
      importMaxBytes: env.MIGRATION_IMPORT_MAX_BYTES,
    },
  };
}
