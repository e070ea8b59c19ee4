import { randomUUID } from 'node:crypto';
import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { EvidenceExport } from '../../../prisma/generated/client';

export type { EvidenceExport };

export type ExportState = 'queued' | 'running' | 'completed' | 'failed';

/** The event type of an export's evidence (phase `requested`, `completed` or `failed`). */
export const EXPORT_EVENT_TYPE = 'evidence.export';

export interface ExportRequest {
  tenantId: string;
  chainId: string;
  profileId: string;
  fromSequence: number;
  toSequence: number;
  principal: string;
  actor: string;
  correlationId: string;
}

/** Thrown inside the request transaction when the principal is at its limit. */
export class ExportLimitReached extends Error {}

/** Rolls back a finishing transaction whose claim another worker has taken over. */
class ClaimLost extends Error {}

function phaseDetails(row: Pick<EvidenceExport, 'id' | 'profileId' | 'fromSequence' | 'toSequence'>, phase: string): JsonObject {
  return {
    action: 'evidence.export',
    export_id: row.id,
    export_phase: phase,
    export_profile_id: row.profileId,
    from_sequence: row.fromSequence,
    to_sequence: row.toSequence,
  };
}

/**
 * Queues an export and records its `evidence.export` (phase `requested`) event, in one
 * transaction. The principal's running exports are counted under an advisory lock on the
 * principal, so concurrent requests (on any replica) cannot all slip under the limit.
 */
export async function createExport({
  db,
  request,
  limit,
}: {
  db: Database;
  request: ExportRequest;
  limit: number;
}): Promise<EvidenceExport> {
  return evidenceTransaction(db, request.tenantId, async (tx) => {
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${`ecs-export:${request.principal}`}))::text AS locked`;
    const active = await tx.evidenceExport.count({ where: { principal: request.principal, state: { in: ['queued', 'running'] } } });
    if (active >= limit) throw new ExportLimitReached(`${active} exports of this principal are queued or running (limit ${limit})`);
    const id = `exp-${randomUUID()}`;
    const event = await appendEvidence(tx, {
      tenantId: request.tenantId,
      eventType: EXPORT_EVENT_TYPE,
      actor: request.actor,
      outcome: 'accepted',
      correlationId: request.correlationId,
      details: phaseDetails({ id, ...request }, 'requested'),
    });
    return tx.evidenceExport.create({
      data: { id, ...request, state: 'queued', requestEvidencePointer: event.evidence_pointer },
    });
  });
}

export async function getExport({ db, id }: { db: Database; id: string }): Promise<EvidenceExport> {
  const row = /^exp-[0-9a-f-]{36}$/.test(id) ? await db.prisma.evidenceExport.findUnique({ where: { id } }) : null;
  if (!row) throw new EcsError(ErrorCode.NotFound, `export ${id} not found`);
  return row;
}

/** Exports newest first, of one tenant or all; keyset on (requestedAt, id). */
export async function findExports({
  db,
  tenantId,
  first,
  after,
}: {
  db: Database;
  tenantId: string | undefined;
  first: number;
  after: { requestedAt: Date; id: string } | undefined;
}): Promise<{ items: EvidenceExport[]; hasMore: boolean }> {
  const rows = await db.prisma.evidenceExport.findMany({
    where: {
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(after ? { OR: [{ requestedAt: { lt: after.requestedAt } }, { requestedAt: after.requestedAt, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ requestedAt: 'desc' }, { id: 'desc' }],
    take: first + 1,
  });
  return { items: rows.slice(0, first), hasMore: rows.length > first };
}

/**
 * Claims the oldest queued export, or a running one whose worker went silent for
 * `staleAfterMs`, for this worker (SKIP LOCKED: replicas never claim the same row).
 * `attempts` is the claim's fencing token: only its holder may finish the export.
 */
export async function claimExport({ db, staleAfterMs }: { db: Database; staleAfterMs: number }): Promise<EvidenceExport | null> {
  const stale = new Date(Date.now() - staleAfterMs);
  const claimed = await db.prisma.$queryRaw<Array<{ id: string }>>`
    UPDATE audit_exports SET state = 'running', attempts = attempts + 1, heartbeat_at = now(), events_done = 0
     WHERE id = (
       SELECT id FROM audit_exports
        WHERE state = 'queued' OR (state = 'running' AND heartbeat_at < ${stale})
        ORDER BY requested_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
    RETURNING id`;
  const id = claimed[0]?.id;
  return id === undefined ? null : db.prisma.evidenceExport.findUnique({ where: { id } });
}

/** Records progress; false when another worker has taken the export over. */
export async function heartbeat({ db, claim, eventsDone }: { db: Database; claim: EvidenceExport; eventsDone: number }): Promise<boolean> {
  const { count } = await db.prisma.evidenceExport.updateMany({
    where: { id: claim.id, state: 'running', attempts: claim.attempts },
    data: { heartbeatAt: new Date(), eventsDone },
  });
  return count === 1;
}

/** The fenced final update and the export's closing evidence, in one transaction. */
async function finish(
  db: Database,
  claim: EvidenceExport,
  data: Partial<EvidenceExport> & { state: ExportState },
  evidence: { outcome: 'accepted' | 'failed'; phase: string; details: JsonObject },
): Promise<boolean> {
  try {
    await evidenceTransaction(db, claim.tenantId, async (tx) => {
      const { count } = await tx.evidenceExport.updateMany({
        where: { id: claim.id, state: 'running', attempts: claim.attempts },
        data: { ...data, completedAt: new Date(), heartbeatAt: new Date() },
      });
      if (count !== 1) throw new ClaimLost();
      await appendEvidence(tx, {
        tenantId: claim.tenantId,
        eventType: EXPORT_EVENT_TYPE,
        actor: claim.actor,
        outcome: evidence.outcome,
        correlationId: claim.correlationId,
        details: { ...phaseDetails(claim, evidence.phase), ...evidence.details },
      });
    });
    return true;
  } catch (error) {
    if (error instanceof ClaimLost) return false;
    throw error;
  }
}

export function completeExport(
  db: Database,
  claim: EvidenceExport,
  result: {
    eventCount: number;
    bundleHash: string;
    merkleRoot: string;
    manifest: string;
    plan: string;
    manifestDigest: string;
    /** The offline verifier's verdict on the bundle file (verify-export.ts), as JSON. */
    verification: string;
  },
): Promise<boolean> {
  return finish(
    db,
    claim,
    {
      state: 'completed',
      eventsDone: result.eventCount,
      bundleHash: result.bundleHash,
      merkleRoot: result.merkleRoot,
      manifest: result.manifest,
      plan: result.plan,
      verification: result.verification,
    },
    {
      outcome: 'accepted',
      phase: 'completed',
      details: {
        event_count: result.eventCount,
        bundle_hash: result.bundleHash,
        merkle_root: result.merkleRoot,
        manifest_digest: result.manifestDigest,
      },
    },
  );
}

export function failExport(db: Database, claim: EvidenceExport, reason: string): Promise<boolean> {
  return finish(db, claim, { state: 'failed', error: reason }, { outcome: 'failed', phase: 'failed', details: { failure_reason: reason } });
}
