import { actorOf } from '../../../lib/auth/caller';
import type { Action } from '../../../lib/auth/permissions';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { ErrorCode as ErrorCodeType } from '../../../lib/errors';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import type { RefusalReasonClass } from '../../../lib/evidence/evidence-event';
import { refuse } from '../../../lib/subgraph/authorize';
import { governAction } from '../../../lib/subgraph/governed-action';
import type { TenantFacts } from '../../../lib/subgraph/plane-client';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { getBucketsByNames } from '../records/buckets';
import type { Bucket } from '../records/buckets';
import type { StorageEvidence } from '../records/objects';

/** A storage action that passed the common checks, with the evidence context of its events. */
export interface Governed {
  tenant: TenantFacts;
  evidence: StorageEvidence;
  /** The `action` field of this operation's evidence (e.g. `object.put`). */
  action: string;
  eventType: string;
}

export interface GovernOptions {
  /** Permission checked against the bucket's tenant. */
  permission: Action;
  /** Evidence event type and action name of the operation. */
  eventType: string;
  action?: string;
  /** Refuse (with evidence) when the tenant is not active; `readable`: a read, also allowed once the tenant has migrated. */
  requireActive: boolean | 'readable';
}

export async function loadBucket(context: PlaneContext, name: string): Promise<Bucket> {
  const [bucket] = await getBucketsByNames({ db: context.db, names: [name] });
  if (!bucket) throw new EcsError(ErrorCode.NotFound, `bucket ${name} not found`, { field: 'bucket' });
  return bucket;
}

/** Role/tenant scope, authority binding in force, policy snapshot, tenant active: the common preamble. */
export async function govern(context: PlaneContext, bucket: Bucket, options: GovernOptions): Promise<Governed> {
  const { tenant, authoritySnapshotId, policySnapshotId } = await governAction(context, {
    permission: options.permission,
    action: options.permission,
    eventType: options.eventType,
    tenantId: bucket.tenantId,
    policy: true,
    requireActive: options.requireActive,
  });
  return {
    tenant,
    action: options.action ?? options.eventType,
    eventType: options.eventType,
    evidence: { actor: actorOf(context.caller), correlationId: context.correlationId, authoritySnapshotId, policySnapshotId },
  };
}

export interface StorageRefusal {
  reasonClass: RefusalReasonClass;
  reasonCode: string;
  reason: string;
  code: ErrorCodeType;
  details: JsonObject;
}

/** Records a refused storage operation on the tenant's chain and returns the error to throw. */
export function storageRefusal(context: PlaneContext, governed: Governed, refusal: StorageRefusal): Promise<EcsError> {
  return refuse(context, {
    tenantId: governed.tenant.id,
    authoritySnapshotId: governed.evidence.authoritySnapshotId,
    policySnapshotId: governed.evidence.policySnapshotId,
    action: governed.action,
    eventType: governed.eventType,
    ...refusal,
  });
}
