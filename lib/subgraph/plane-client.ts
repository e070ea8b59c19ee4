import type { Caller } from '../auth/caller';
import { IDENTITY_HEADER } from '../auth/identity-token';
import type { IdentityTokens } from '../auth/identity-token';
import type { CallerRole } from '../auth/permissions';
import type { Plane } from '../config/config';
import { EcsError, ErrorCode } from '../errors';

/** A `fetch` bound to the mTLS connection pool of this process. */
export type PlaneFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number; json(): Promise<unknown> }>;

/** The facts of a tenant other planes need (from the control plane, its owner). */
export interface TenantFacts {
  id: string;
  status: string;
  jurisdiction: string;
  classificationCeiling: string;
  policyBaseline: string;
  authorityBinding: string;
  /** Where a migrated tenant went; null otherwise. */
  migratedTo?: string | null;
}

/** Service-to-service calls from one plane to another, over the same mTLS as the gateway. */
export interface PlaneClient {
  tenant(id: string): Promise<TenantFacts | null>;
  /** Asks the identity plane whether an authority binding covers an action now. */
  decideAuthority(bindingId: string, action: string): Promise<AuthorityDecision>;
  /** Asks the identity plane which key a presented API key secret is, and whether it is usable. */
  lookupApiKey(presented: string): Promise<ApiKeyLookupResult>;
  /** Asks the identity plane for an S3 credential's SigV4 signing key for one credential scope (never the secret). */
  lookupS3SigningKey(accessKeyId: string, scope: S3SigningScope): Promise<S3SigningKeyResult>;
  /** The snapshot in force of a policy baseline (control plane), or null when there is no such baseline. */
  currentPolicy(baseline: string): Promise<{ id: string; text: string } | null>;
  /** The canonical content a snapshot id hashes (`polsnap:` from control, `authsnap:` from identity), or null. */
  snapshotContent(snapshotId: string): Promise<string | null>;
}

export interface ApiKeyLookupResult {
  ok: boolean;
  reason: string | null;
  apiKeyId: string | null;
  tenantId: string | null;
  scopes: string[] | null;
  expiresAt: string | null;
}

/** The credential scope of a SigV4 signature: day (`yyyymmdd`), region and service. */
export interface S3SigningScope {
  date: string;
  region: string;
  service: string;
}

export interface S3SigningKeyResult {
  ok: boolean;
  reason: string | null;
  s3CredentialId: string | null;
  tenantId: string | null;
  scopes: string[] | null;
  expiresAt: string | null;
  /** Hex. */
  signingKey: string | null;
}

const S3_SIGNING_KEY_QUERY = `query S3SigningKey($accessKeyId: String!, $date: String!, $region: String!, $service: String!) {
  s3SigningKey(accessKeyId: $accessKeyId, date: $date, region: $region, service: $service) {
    ok reason s3CredentialId tenantId scopes expiresAt signingKey
  }
}`;

const POLICY_QUERY = `query CurrentPolicy($name: ID!) { policyBaseline(name: $name) { current { id text } } }`;

const POLICY_SNAPSHOT_QUERY = `query PolicySnapshotContent($id: ID!) { policySnapshot(id: $id) { snapshotContent } }`;
const AUTHORITY_SNAPSHOT_QUERY = `query AuthoritySnapshotContent($id: ID!) { authoritySnapshot(snapshotId: $id) { snapshotContent } }`;

const API_KEY_QUERY = `query ApiKeyLookup($key: String!) {
  apiKeyLookup(key: $key) { ok reason apiKeyId tenantId scopes expiresAt }
}`;

export interface PlaneClientOptions {
  /** The calling plane (or the gateway); it calls as `service:<name>`. */
  self: Plane | 'gateway';
  urlOf(plane: Plane): string;
  fetch: PlaneFetch;
  timeoutMs: number;
  requestId: string;
  correlationId: string;
  identityTokens: IdentityTokens;
}

export interface AuthorityDecision {
  allowed: boolean;
  snapshotId: string | null;
  reasonCode: string | null;
  reason: string | null;
  /** When an allowing decision stops holding (the binding's end), ISO 8601; null on refusals. */
  validUntil?: string | null;
}

const AUTHORITY_QUERY = `query AuthorityDecision($bindingId: ID!, $action: String!) {
  authorityDecision(bindingId: $bindingId, action: $action) { allowed snapshotId reasonCode reason validUntil }
}`;

const TENANT_QUERY = `query TenantFacts($id: ID!) {
  tenant(id: $id) { id status jurisdiction classificationCeiling policyBaseline authorityBinding migratedTo }
}`;

const SERVICE_ROLES: CallerRole[] = ['service'];

export function createPlaneClient(options: PlaneClientOptions): PlaneClient {
  const service: Caller = { subject: `service:${options.self}`, roles: SERVICE_ROLES, authMethod: 'service' };
  async function request<T>(plane: Plane, query: string, variables: Record<string, unknown>): Promise<T> {
    let response: { status: number; json(): Promise<unknown> };
    let body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    try {
      response = await options.fetch(options.urlOf(plane), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': options.requestId,
          'x-correlation-id': options.correlationId,
          [IDENTITY_HEADER]: await options.identityTokens.sign(service, plane),
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw new EcsError(ErrorCode.DependencyUnavailable, `the ${plane} plane is not reachable`, { internal: error });
    }
    if (body.errors?.length || !body.data) {
      throw new EcsError(ErrorCode.DependencyUnavailable, `the ${plane} plane answered with an error`, {
        internal: body.errors,
      });
    }
    return body.data;
  }

  return {
    async tenant(id) {
      const data = await request<{ tenant: TenantFacts | null }>('control', TENANT_QUERY, { id });
      return data.tenant;
    },
    async decideAuthority(bindingId, action) {
      const data = await request<{ authorityDecision: AuthorityDecision }>('identity', AUTHORITY_QUERY, { bindingId, action });
      return data.authorityDecision;
    },
    async lookupApiKey(presented) {
      const data = await request<{ apiKeyLookup: ApiKeyLookupResult }>('identity', API_KEY_QUERY, { key: presented });
      return data.apiKeyLookup;
    },
    async lookupS3SigningKey(accessKeyId, scope) {
      const data = await request<{ s3SigningKey: S3SigningKeyResult }>('identity', S3_SIGNING_KEY_QUERY, { accessKeyId, ...scope });
      return data.s3SigningKey;
    },
    async currentPolicy(baseline) {
      const data = await request<{ policyBaseline: { current: { id: string; text: string } } | null }>('control', POLICY_QUERY, {
        name: baseline,
      });
      return data.policyBaseline?.current ?? null;
    },
    async snapshotContent(snapshotId) {
      if (snapshotId.startsWith('polsnap:')) {
        const data = await request<{ policySnapshot: { snapshotContent: string } | null }>('control', POLICY_SNAPSHOT_QUERY, {
          id: snapshotId,
        });
        return data.policySnapshot?.snapshotContent ?? null;
      }
      if (snapshotId.startsWith('authsnap:')) {
        const data = await request<{ authoritySnapshot: { snapshotContent: string } | null }>('identity', AUTHORITY_SNAPSHOT_QUERY, {
          id: snapshotId,
        });
        return data.authoritySnapshot?.snapshotContent ?? null;
      }
      return null;
    },
  };
}
