import type { Action, CallerRole } from './permissions';
import { ROLE_ACTIONS } from './permissions';

export type AuthMethod = 'oidc' | 'dev-issuer' | 'api-key' | 's3-credential' | 'service';

/** A verified caller, as the gateway authenticated it and as every plane sees it. */
export interface Caller {
  subject: string;
  roles: CallerRole[];
  /** The tenant the caller belongs to; absent for platform-wide callers. */
  tenantId?: string;
  authMethod: AuthMethod;
  issuer?: string;
  /** When the credential stops being valid (token expiry, key expiry). */
  expiresAt?: string;
  /** For API keys: the actions the key was given. */
  scopes?: Action[];
  apiKeyId?: string;
  jurisdiction?: string;
}

/** True when the caller's roles (and, for API keys, scopes) include `action`. */
export function mayPerform(caller: Caller, action: Action): boolean {
  const byRole = caller.roles.some((role) => ROLE_ACTIONS[role].has(action));
  if (!byRole) return false;
  return caller.scopes === undefined || caller.scopes.includes(action);
}

/**
 * True when the caller may act on `tenantId`: platform-wide callers (no tenant) on any
 * tenant, everyone else only on their own.
 */
export function withinTenant(caller: Caller, tenantId: string | undefined): boolean {
  if (caller.tenantId === undefined) return caller.roles.some((role) => role !== 'tenant-admin' && role !== 'reader');
  return tenantId !== undefined && caller.tenantId === tenantId;
}

/** How the caller appears as `actor` in evidence. */
export function actorOf(caller: Caller): string {
  return caller.apiKeyId ? `api-key:${caller.apiKeyId}` : caller.subject;
}
