import type { Plane } from '../config/config';
import { EcsError, ErrorCode } from '../errors';

/** A `fetch` bound to the mTLS connection pool of this process. */
export type PlaneFetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number; json(): Promise<unknown> }>;

/** The facts of a tenant other planes need (from the control plane, its owner). */
export interface TenantFacts {
  id: string;
  status: string;
  jurisdiction: string;
  classificationCeiling: string;
  policyBaseline: string;
  authorityBinding: string;
}

/** Service-to-service calls from one plane to another, over the same mTLS as the gateway. */
export interface PlaneClient {
  tenant(id: string): Promise<TenantFacts | null>;
  /** Throws `ECS_NOT_FOUND` for an unknown tenant. */
  assertTenantExists(id: string): Promise<TenantFacts>;
}

export interface PlaneClientOptions {
  urlOf(plane: Plane): string;
  fetch: PlaneFetch;
  timeoutMs: number;
  requestId: string;
}

const TENANT_QUERY = `query TenantFacts($id: ID!) {
  tenant(id: $id) { id status jurisdiction classificationCeiling policyBaseline authorityBinding }
}`;

export function createPlaneClient(options: PlaneClientOptions): PlaneClient {
  async function request<T>(plane: Plane, query: string, variables: Record<string, unknown>): Promise<T> {
    let response: { status: number; json(): Promise<unknown> };
    let body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    try {
      response = await options.fetch(options.urlOf(plane), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': options.requestId },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw new EcsError(ErrorCode.DependencyUnavailable, `the ${plane} plane is not reachable`, { internal: error });
    }
    if (body.errors?.length || !body.data) {
      const code = body.errors?.[0]?.extensions?.code;
      if (code === ErrorCode.NotFound) return { tenant: null } as T;
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
    async assertTenantExists(id) {
      const tenant = await this.tenant(id);
      if (!tenant) throw new EcsError(ErrorCode.NotFound, `tenant ${id} not found`, { field: 'tenantId' });
      return tenant;
    },
  };
}
