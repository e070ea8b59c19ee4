/** The roles of ARCHITECTURE.md. `service` is the internal identity of a plane or the orchestrator. */
export type CallerRole = 'platform-admin' | 'tenant-admin' | 'auditor' | 'reader' | 'service';

/** Actions a caller may be allowed; API key scopes are subsets of these. */
export const ACTIONS = [
  'tenant.read',
  'tenant.create',
  'tenant.update',
  'tenant.suspend',
  'tenant.delete',
  'workload.read',
  'workload.deploy',
  'workload.terminate',
  'workload.report',
  'storage.read',
  'storage.write',
  'storage.delete',
  'storage.govern',
  'evidence.read',
  'evidence.export',
  /** No-Control Profile declarations (authority graph, key custody, ownership, telemetry egress). */
  'ncp.declare',
  'apikey.read',
  'apikey.manage',
  'authority.read',
  'authority.manage',
  'policy.read',
  'policy.manage',
  /** Reading `/metrics`, which describes the whole service (no tenant's data). */
  'metrics.read',
] as const;
export type Action = (typeof ACTIONS)[number];

const READS: Action[] = ['tenant.read', 'workload.read', 'storage.read', 'authority.read', 'policy.read'];

/** What each role may do (within its tenant, unless the caller has no tenant and the role is platform-wide). */
export const ROLE_ACTIONS: Record<CallerRole, ReadonlySet<Action>> = {
  'platform-admin': new Set(ACTIONS.filter((action) => action !== 'workload.report')),
  'tenant-admin': new Set<Action>([
    ...READS,
    'workload.deploy',
    'workload.terminate',
    'storage.write',
    'storage.delete',
    'storage.govern',
    'evidence.read',
    'ncp.declare',
    'apikey.read',
    'apikey.manage',
  ]),
  auditor: new Set<Action>([...READS, 'evidence.read', 'evidence.export']),
  reader: new Set<Action>(READS),
  service: new Set<Action>(['tenant.read', 'authority.read', 'policy.read', 'workload.report']),
};

/**
 * Scopes an API key may carry: what a tenant-admin may do, and `metrics.read` for a
 * monitoring system's key (which only a platform administrator may create).
 */
export const API_KEY_SCOPES: readonly Action[] = [
  ...[...ROLE_ACTIONS['tenant-admin']].filter((action) => action !== 'apikey.manage'),
  'metrics.read',
];

export function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value);
}
