import type { Database } from '../../../lib/db/database';
import type { AuthorityDecision } from '../../../lib/subgraph/plane-client';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { canonicalJson, sha256Digest } from '../../../lib/evidence/canonical-json';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { AuthorityBinding } from '../../../prisma/generated/client';
import { announceGovernanceChange } from '../../../lib/subgraph/governance-facts-cache';
import { isUniqueViolation } from '../../../lib/db/unique-violation';

export type { AuthorityBinding };

/** Scope that covers every governed action. */
export const ANY_ACTION = '*';

export interface AuthorityBindingData {
  id: string;
  subject: string;
  scopes: string[];
  issuer: string;
  validFrom: Date;
  validUntil: Date;
  proofRef: string | null;
}

/** The canonical JSON of one version's content: what its snapshot id hashes (an export's artifact). */
export function snapshotContentOf(data: AuthorityBindingData, version: number): string {
  return canonicalJson({
    id: data.id,
    version,
    subject: data.subject,
    scopes: [...data.scopes].sort(),
    issuer: data.issuer,
    valid_from: data.validFrom.toISOString(),
    valid_until: data.validUntil.toISOString(),
    proof_ref: data.proofRef,
  });
}

/** `authsnap:sha256:<hex>` of the canonical content of one version. */
function snapshotIdOf(data: AuthorityBindingData, version: number): string {
  return `authsnap:${sha256Digest(snapshotContentOf(data, version))}`;
}

/** The version whose snapshot id is `snapshotId`. */
export async function findBindingBySnapshot({ db, snapshotId }: { db: Database; snapshotId: string }): Promise<AuthorityBinding | null> {
  return db.prisma.authorityBinding.findUnique({ where: { snapshotId } });
}

/** The newest version of a binding. */
export async function findLatestBinding({ db, id }: { db: Database; id: string }): Promise<AuthorityBinding | null> {
  return db.prisma.authorityBinding.findFirst({ where: { id }, orderBy: { version: 'desc' } });
}

export async function findBindingVersions({ db, id }: { db: Database; id: string }): Promise<AuthorityBinding[]> {
  return db.prisma.authorityBinding.findMany({ where: { id }, orderBy: { version: 'asc' } });
}

/** The newest version of each binding, ordered by id, after `afterId`. */
export async function findBindings({
  db,
  first,
  afterId,
}: {
  db: Database;
  first: number;
  afterId: string | undefined;
}): Promise<{ items: AuthorityBinding[]; hasMore: boolean }> {
  const rows = await db.prisma.authorityBinding.findMany({
    where: afterId === undefined ? {} : { id: { gt: afterId } },
    orderBy: [{ id: 'asc' }, { version: 'desc' }],
    distinct: ['id'],
    take: first + 1,
  });
  return { items: rows.slice(0, first), hasMore: rows.length > first };
}

/**
 * Records a new version of a binding (version 1 when the id is new) with its
 * `authority.binding` evidence in the platform chain. Versions are never changed.
 */
export async function createBindingVersion({
  db,
  data,
  actor,
  correlationId,
}: {
  db: Database;
  data: AuthorityBindingData;
  actor: string;
  correlationId: string;
}): Promise<AuthorityBinding> {
  try {
    return await evidenceTransaction(db, undefined, async (tx) => {
      const latest = await tx.authorityBinding.findFirst({ where: { id: data.id }, orderBy: { version: 'desc' } });
      const version = (latest?.version ?? 0) + 1;
      const snapshotId = snapshotIdOf(data, version);
      const binding = await tx.authorityBinding.create({ data: { ...data, version, snapshotId, createdBy: actor } });
      await appendEvidence(tx, {
        tenantId: undefined,
        eventType: 'authority.binding',
        actor,
        outcome: 'accepted',
        correlationId,
        authoritySnapshotId: snapshotId,
        details: {
          action: 'authority.manage',
          binding_id: binding.id,
          binding_version: version,
          subject: binding.subject,
          scope: binding.scopes,
          valid_from: binding.validFrom.toISOString(),
          valid_until: binding.validUntil.toISOString(),
        },
      });
      return binding;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new EcsError(ErrorCode.Conflict, `authority binding ${data.id} changed concurrently; retry`);
    }
    throw error;
  } finally {
    // Committed or not, this process forgets what it remembered of the facts it may have changed.
    announceGovernanceChange(db);
  }
}

/** The decision's shape is the one the other planes read (lib/subgraph/plane-client.ts). */
export type { AuthorityDecision };

/** Whether the newest version of `bindingId` authorises `action` now. */
export async function decideAuthority({
  db,
  bindingId,
  action,
  now = new Date(),
}: {
  db: Database;
  bindingId: string;
  action: string;
  now?: Date;
}): Promise<AuthorityDecision> {
  const binding = await findLatestBinding({ db, id: bindingId });
  if (!binding) {
    return {
      allowed: false,
      snapshotId: null,
      reasonCode: 'authority_binding_unknown',
      reason: `authority binding ${bindingId} does not exist`,
    };
  }
  const refuse = (reasonCode: string, reason: string): AuthorityDecision => ({
    allowed: false,
    snapshotId: binding.snapshotId,
    reasonCode,
    reason,
  });
  if (now < binding.validFrom)
    return refuse('authority_not_yet_valid', `authority binding ${bindingId} is not valid before ${binding.validFrom.toISOString()}`);
  if (now >= binding.validUntil)
    return refuse('authority_expired', `authority binding ${bindingId} expired at ${binding.validUntil.toISOString()}`);
  if (!binding.scopes.includes(ANY_ACTION) && !binding.scopes.includes(action)) {
    return refuse('action_outside_authority_scope', `authority binding ${bindingId} does not cover ${action}`);
  }
  return { allowed: true, snapshotId: binding.snapshotId, reasonCode: null, reason: null, validUntil: binding.validUntil.toISOString() };
}

/** The development binding `auth-dev-001` (every action, one year), created when absent. */
export async function seedDevelopmentBinding({ db, issuer }: { db: Database; issuer: string }): Promise<boolean> {
  if (await findLatestBinding({ db, id: DEV_BINDING_ID })) return false;
  const validFrom = new Date();
  await createBindingVersion({
    db,
    data: {
      id: DEV_BINDING_ID,
      subject: 'ecs-development',
      scopes: [ANY_ACTION],
      issuer,
      validFrom,
      validUntil: new Date(validFrom.getTime() + 365 * 24 * 3600 * 1000),
      proofRef: 'seed:development',
    },
    actor: 'system:seed',
    correlationId: 'seed-auth-dev-001',
  }).catch((error: unknown) => {
    // Another replica seeded it at the same moment.
    if (!(error instanceof EcsError && error.code === ErrorCode.Conflict)) throw error;
  });
  return true;
}

export const DEV_BINDING_ID = 'auth-dev-001';
