import { randomBytes } from 'node:crypto';
import type { Experimental_DidResolveQueryPlanCallback } from '@apollo/gateway';
import { loadDevIssuer } from '../../lib/auth/dev-issuer';
import type { Role } from '../../lib/auth/token-verifier';
import { createLogger } from '../../lib/logger';
import type { Logger } from '../../lib/logger';
import { startStack } from '../../app/stack';
import type { RunningStack } from '../../app/stack';
import { seedEmbeddedDatabase } from '../../testkit/embedded-template';
import { makeTempDir } from '../../testkit/temp-dir';
import { testConfig } from '../../testkit/test-config';
import { createTestDatabase } from '../../testkit/test-database';

export interface GraphQLResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface TestStack {
  stack: RunningStack;
  url: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** A platform administrator's bearer token (development issuer). */
  adminToken: string;
  /** A token from the development issuer for a role, optionally of a tenant. */
  token(role: Role, tenantId?: string, options?: { ttlSeconds?: number; subject?: string }): Promise<string>;
  /** GraphQL as the platform administrator. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResult<T>>;
  /** GraphQL with the given credentials (`Bearer ...` token or `{ apiKey }`), or none. */
  gqlAs<T = Record<string, unknown>>(
    credential: string | { apiKey: string } | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResult<T> & { status: number }>;
  stop(): Promise<void>;
}

/** The whole stack in this process on ephemeral ports, on the embedded database or a fresh PostgreSQL one. */
export async function startTestStack(
  options: { onQueryPlan?: Experimental_DidResolveQueryPlanCallback; log?: Logger; env?: Record<string, string> } = {},
): Promise<TestStack> {
  const dir = await makeTempDir();
  const database = await createTestDatabase();
  if (!database.databaseUrl) await seedEmbeddedDatabase(dir.path);
  // API key lookups are not cached in tests, so revocations show at once; rate limits are
  // out of the way unless a suite sets its own.
  const config = testConfig({
    dataDir: dir.path,
    databaseUrl: database.databaseUrl,
    env: { API_KEY_CACHE_MS: '0', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000', ...options.env },
  });
  const log = options.log ?? createLogger({ level: 'silent' });
  let stack: RunningStack;
  try {
    stack = await startStack(config, log, { onQueryPlan: options.onQueryPlan });
  } catch (error) {
    await database.drop();
    await dir.remove();
    throw error;
  }
  const url = stack.gateway.url;
  const issuer = await loadDevIssuer(config.devIssuer.keyFile);
  const token: TestStack['token'] = (role, tenantId, tokenOptions = {}) =>
    issuer.mint({
      subject: tokenOptions.subject ?? `${role}${tenantId ? `@${tenantId}` : ''}`,
      roles: [role],
      ...(tenantId ? { tenantId } : {}),
      audience: config.oidc.audience,
      ttlSeconds: tokenOptions.ttlSeconds ?? 3600,
    });
  const adminToken = await token('platform-admin');
  const gqlAs: TestStack['gqlAs'] = async (credential, query, variables) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (typeof credential === 'string') headers.authorization = `Bearer ${credential}`;
    else if (credential) headers['x-api-key'] = credential.apiKey;
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return { ...((await response.json()) as GraphQLResult<never>), status: response.status };
  };
  return {
    stack,
    url,
    dataDir: dir.path,
    databaseUrl: database.databaseUrl,
    adminToken,
    token,
    gql: (query, variables) => gqlAs(adminToken, query, variables),
    gqlAs,
    stop: async () => {
      await stack.stop();
      await database.drop();
      await dir.remove();
    },
  };
}

/** A tenant id no other suite uses. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export const CREATE_TENANT = `mutation CreateTenant($input: CreateTenantInput!) {
  createTenant(input: $input) { id status jurisdiction classificationCeiling }
}`;

export function tenantInput(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, authorityBinding: 'auth-dev-001', jurisdiction: 'DE', policyBaseline: 'ecs-baseline-v1', ...overrides };
}

export const CREATE_WORKLOAD = `mutation CreateWorkload($input: CreateWorkloadInput!) {
  createWorkload(input: $input) { id tenantId status }
}`;

export const PINNED_IMAGE = `registry.example.eu/app@sha256:${'ab'.repeat(32)}`;
