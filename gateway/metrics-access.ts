import type { Caller } from '../lib/auth/caller';
import type { Database } from '../lib/db/database';
import type { EcsError } from '../lib/errors';
import { refuse } from '../lib/subgraph/authorize';

/**
 * `/metrics` describes the whole service: platform administrators (no tenant in the token),
 * and API keys given the dedicated `metrics.read` scope, for a monitoring system.
 */
export function mayReadMetrics(caller: Caller): boolean {
  if (caller.authMethod === 'api-key') return caller.scopes?.includes('metrics.read') === true;
  return caller.roles.includes('platform-admin') && caller.tenantId === undefined;
}

/**
 * Records a refused `/metrics` read like any other authority refusal (on the caller's tenant
 * chain, or the platform chain for callers without one) and returns the 403 with its pointer.
 */
export function refuseMetrics(options: { db: Database; caller: Caller; correlationId: string }): Promise<EcsError> {
  return refuse(options, {
    tenantId: options.caller.tenantId,
    action: 'metrics.read',
    eventType: 'authority.refusal',
    reasonClass: 'authority_missing_or_invalid',
    reasonCode: 'role_not_permitted',
    reason: 'metrics are for platform administrators and API keys with the metrics.read scope',
  });
}
