import { z } from 'zod';
import { actorOf } from '../../../lib/auth/caller';
import { CLASSIFICATIONS } from '../../../lib/domain/classification';
import { RESOURCE_NAME } from '../../../lib/domain/identifiers';
import { isJurisdiction } from '../../../lib/domain/jurisdiction';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize, refuse } from '../../../lib/subgraph/authorize';
import { assertAuthority } from '../../../lib/subgraph/governed-action';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { tenantInactiveReason } from '../../../lib/subgraph/tenant-guard';
import { findBaseline, publishBaseline } from '../data/policy-baselines';
import { TenantDeletedError, changeTenant, createTenant, getTenant } from '../data/tenants';
import type { Tenant, TenantChange } from '../data/tenants';
import type { MutationResolverMap } from '../generated/resolvers-types';

const jurisdiction = z.string().refine(isJurisdiction, 'must be an ISO 3166-1 alpha-2 code, EU or EEA');
const createTenantInput = z.object({
  id: z.string().regex(RESOURCE_NAME, 'must be 3-63 lowercase letters, digits or hyphens'),
  authorityBinding: z.string().min(1, 'is required').max(200),
  jurisdiction,
  classificationCeiling: z.enum(CLASSIFICATIONS).nullish(),
  policyBaseline: z.string().min(1, 'is required').max(200),
});
const updateTenantInput = z
  .object({
    authorityBinding: z.string().min(1).max(200).nullish(),
    jurisdiction: jurisdiction.nullish(),
    classificationCeiling: z.enum(CLASSIFICATIONS).nullish(),
    policyBaseline: z.string().min(1).max(200).nullish(),
  })
  .strict();
const publishInput = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,62}$/, 'must be 2-63 lowercase letters, digits, dots or hyphens'),
  text: z.string().min(1).max(100_000),
});

/** The current snapshot of a baseline, or a refusal (with evidence) naming the missing baseline. */
async function currentPolicySnapshot(
  context: PlaneContext,
  name: string,
  tenantId: string | undefined,
  eventType: string,
): Promise<string> {
  const baseline = await findBaseline({ db: context.db, name });
  if (baseline) return baseline.currentSnapshotId;
  throw await refuse(context, {
    tenantId,
    action: eventType,
    eventType,
    reasonClass: 'policy_denied',
    reasonCode: 'policy_baseline_unknown',
    reason: `policy baseline ${name} does not exist`,
    code: ErrorCode.MissingPolicy,
  });
}

/**
 * Deletion is final: a deleted tenant keeps its evidence and its id, and every later change
 * (resume, suspend, update, delete again) is refused with 409 and evidence on its chain. The
 * request conflicts with the tenant's state, not with the policy in force.
 */
function refuseDeleted(
  context: PlaneContext,
  id: string,
  action: string,
  eventType: string,
  snapshots: { authoritySnapshotId?: string; policySnapshotId?: string } = {},
) {
  return refuse(context, {
    tenantId: id,
    action,
    eventType,
    ...snapshots,
    reasonClass: 'policy_denied',
    reasonCode: 'tenant_deleted',
    reason: `tenant ${id} is deleted; deletion is final`,
    code: ErrorCode.Conflict,
  });
}

/**
 * A tenant being imported changes only through its import (activate or roll back), and one
 * that migrated away is read-only here: a lifecycle change of either is refused with 409 and
 * evidence naming why (and, once migrated, where the tenant went).
 */
function refuseMigrating(context: PlaneContext, tenant: Tenant, action: string, eventType: string) {
  return refuse(context, {
    tenantId: tenant.id,
    action,
    eventType,
    reasonClass: 'policy_denied',
    reasonCode: `tenant_${tenant.status}`,
    reason: tenantInactiveReason(tenant),
    code: ErrorCode.Conflict,
    ...(tenant.migratedTo ? { details: { migrated_to: tenant.migratedTo } } : {}),
  });
}

/** A lifecycle change: authorised, under the tenant's authority and policy, evidenced with before/after. */
async function lifecycle(
  context: PlaneContext,
  id: string,
  change: TenantChange,
  action: 'tenant.update' | 'tenant.suspend' | 'tenant.delete',
  eventType: string,
) {
  await authorize(context, action, id);
  const tenant = await getTenant({ db: context.db, id });
  if (tenant.status === 'deleted') throw await refuseDeleted(context, id, action, eventType);
  if (tenant.status === 'importing' || tenant.status === 'migrated') throw await refuseMigrating(context, tenant, action, eventType);
  const bindingId = change.authorityBinding ?? tenant.authorityBinding;
  const authoritySnapshotId = await assertAuthority(context, { bindingId, action, tenantId: id, eventType });
  const policySnapshotId = await currentPolicySnapshot(context, change.policyBaseline ?? tenant.policyBaseline, id, eventType);
  try {
    return await changeTenant({
      db: context.db,
      id,
      change,
      eventType,
      action,
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
      authoritySnapshotId,
      policySnapshotId,
    });
  } catch (error) {
    if (error instanceof TenantDeletedError)
      throw await refuseDeleted(context, id, action, eventType, { authoritySnapshotId, policySnapshotId });
    throw error;
  }
}

export const MutationResolvers: MutationResolverMap = {
  createTenant: async (_, args, context) => {
    await authorize(context, 'tenant.create', undefined);
    const input = parseInput(createTenantInput, args.input);
    const authoritySnapshotId = await assertAuthority(context, {
      bindingId: input.authorityBinding,
      action: 'tenant.create',
      tenantId: undefined,
      eventType: 'tenant.create',
    });
    const policySnapshotId = await currentPolicySnapshot(context, input.policyBaseline, undefined, 'tenant.create');
    return createTenant({
      db: context.db,
      data: { ...input, classificationCeiling: input.classificationCeiling ?? 'internal' },
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
      authoritySnapshotId,
      policySnapshotId,
    });
  },

  updateTenant: async (_, args, context) => {
    const input = parseInput(updateTenantInput, args.input);
    const change = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined)) as TenantChange;
    if (Object.keys(change).length === 0)
      throw new EcsError(ErrorCode.ValidationFailed, 'input names no field to change', { field: 'input' });
    return lifecycle(context, args.id, change, 'tenant.update', 'tenant.update');
  },
  suspendTenant: (_, args, context) => lifecycle(context, args.id, { status: 'suspended' }, 'tenant.suspend', 'tenant.suspend'),
  resumeTenant: (_, args, context) => lifecycle(context, args.id, { status: 'active' }, 'tenant.suspend', 'tenant.resume'),
  deleteTenant: (_, args, context) => lifecycle(context, args.id, { status: 'deleted' }, 'tenant.delete', 'tenant.delete'),

  publishPolicyBaseline: async (_, args, context) => {
    await authorize(context, 'policy.manage', undefined);
    const input = parseInput(publishInput, args.input);
    return publishBaseline({ db: context.db, ...input, actor: actorOf(context.caller), correlationId: context.correlationId });
  },
};
