import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { canonicalJson, sha256Digest } from '../../../lib/evidence/canonical-json';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import { BASELINE_V1_NAME, BASELINE_V1_TEXT } from '../../../lib/policy/baseline-v1';
import { compilePolicy } from '../../../lib/policy/compile-policy';
import { announceGovernanceChange } from '../../../lib/subgraph/governance-facts-cache';
import type { PolicyBaseline, PolicySnapshot } from '../../../prisma/generated/client';
import { isUniqueViolation } from '../../../lib/db/unique-violation';

export type { PolicyBaseline, PolicySnapshot };

/** The canonical JSON a policy snapshot id hashes (an export's artifact). */
export function snapshotContentOf(baseline: string, text: string): string {
  return canonicalJson({ baseline, text });
}

function snapshotIdOf(baseline: string, text: string): string {
  return `polsnap:${sha256Digest(snapshotContentOf(baseline, text))}`;
}

export async function findBaseline({ db, name }: { db: Database; name: string }): Promise<PolicyBaseline | null> {
  return db.prisma.policyBaseline.findUnique({ where: { name } });
}

export async function getSnapshot({ db, id }: { db: Database; id: string }): Promise<PolicySnapshot | null> {
  return db.prisma.policySnapshot.findUnique({ where: { id } });
}

export async function findSnapshotsOf({ db, baseline }: { db: Database; baseline: string }): Promise<PolicySnapshot[]> {
  return db.prisma.policySnapshot.findMany({ where: { baseline }, orderBy: { version: 'asc' } });
}

export async function findBaselines({
  db,
  first,
  afterName,
}: {
  db: Database;
  first: number;
  afterName: string | undefined;
}): Promise<{ items: PolicyBaseline[]; hasMore: boolean }> {
  const rows = await db.prisma.policyBaseline.findMany({
    where: afterName === undefined ? {} : { name: { gt: afterName } },
    orderBy: { name: 'asc' },
    take: first + 1,
  });
  return { items: rows.slice(0, first), hasMore: rows.length > first };
}

/**
 * Publishes a Cedar policy set as the newest snapshot of a baseline (creating the
 * baseline on first publish), with `policy.snapshot.publish` evidence. The text must parse
 * and validate against the ECS Cedar schema; Cedar's own messages explain a refusal.
 * Publishing the current text again changes nothing.
 */
export async function publishBaseline({
  db,
  name,
  text,
  actor,
  correlationId,
}: {
  db: Database;
  name: string;
  text: string;
  actor: string;
  correlationId: string;
}): Promise<PolicyBaseline> {
  const compiled = compilePolicy(text);
  if (!compiled.ok) {
    throw new EcsError(ErrorCode.ValidationFailed, `policy is not valid Cedar for the ECS schema: ${compiled.errors.join('; ')}`, {
      field: 'text',
    });
  }
  const id = snapshotIdOf(name, text);
  try {
    return await evidenceTransaction(db, undefined, async (tx) => {
      const current = await tx.policyBaseline.findUnique({ where: { name } });
      if (current?.currentSnapshotId === id) return current;
      const latest = await tx.policySnapshot.findFirst({ where: { baseline: name }, orderBy: { version: 'desc' } });
      const version = (latest?.version ?? 0) + 1;
      const existing = await tx.policySnapshot.findUnique({ where: { id } });
      if (!existing) await tx.policySnapshot.create({ data: { id, baseline: name, version, text, issuer: actor } });
      const baseline = await tx.policyBaseline.upsert({
        where: { name },
        create: { name, currentSnapshotId: id },
        update: { currentSnapshotId: id },
      });
      await appendEvidence(tx, {
        tenantId: undefined,
        eventType: 'policy.snapshot.publish',
        actor,
        outcome: 'accepted',
        correlationId,
        policySnapshotId: id,
        details: {
          action: 'policy.manage',
          policy_baseline: name,
          version: existing?.version ?? version,
          policy_ids: Object.keys(compiled.compiled.policies),
          previous_snapshot_id: current?.currentSnapshotId ?? null,
        },
        record: { policy_text: text },
      });
      return baseline;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new EcsError(ErrorCode.Conflict, `policy baseline ${name} changed concurrently; retry`);
    }
    throw error;
  } finally {
    // Committed or not, this process forgets what it remembered of the facts it may have changed.
    announceGovernanceChange(db);
  }
}

/** `ecs-baseline-v1`, published when absent. */
export async function seedBaselineV1({ db }: { db: Database }): Promise<void> {
  if (await findBaseline({ db, name: BASELINE_V1_NAME })) return;
  await publishBaseline({
    db,
    name: BASELINE_V1_NAME,
    text: BASELINE_V1_TEXT,
    actor: 'system:seed',
    correlationId: 'seed-ecs-baseline-v1',
  }).catch((error: unknown) => {
    if (!(error instanceof EcsError && error.code === ErrorCode.Conflict)) throw error;
  });
}
