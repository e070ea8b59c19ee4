import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../prisma/generated/client';
import { canonicalJson, contentDigest, sha256Digest } from './canonical-json';
import type { JsonObject } from './canonical-json';
import { ENVELOPE_FIELDS, PLATFORM_TENANT, chainIdFor } from './evidence-event';
import type { EvidenceEvent, EvidenceInput } from './evidence-event';

export type LedgerTransaction = Prisma.TransactionClient;

export const EVIDENCE_POINTER_PREFIX = 'eosc://evidence/';

/**
 * Appends one evidence event to its chain inside the caller's transaction, so the
 * governed state change and its evidence commit together or not at all.
 *
 * Appends to one chain are serialised by a row lock on the chain head (held until the
 * caller's transaction ends); different chains append in parallel.
 */
export async function appendEvidence(
  tx: LedgerTransaction,
  input: EvidenceInput,
  now: Date = new Date(),
): Promise<EvidenceEvent> {
  const tenantId = input.tenantId ?? PLATFORM_TENANT;
  const chainId = chainIdFor(input.tenantId);
  const occurredAt = now.toISOString();
  const snapshots = snapshotFields(input);

  // Everything that does not depend on the chain position is prepared before the lock.
  const record: JsonObject = {
    record_type: 'ecs.decision-record',
    tenant_id: tenantId,
    correlation_id: input.correlationId,
    event_type: input.eventType,
    actor: input.actor,
    decision: input.outcome,
    decided_at: occurredAt,
    ...snapshots,
    ...(input.refusal ? refusalFields(input) : {}),
    ...(input.record ?? {}),
  };
  const recordText = canonicalJson(record);
  const evidencePointer = `${EVIDENCE_POINTER_PREFIX}${sha256Digest(recordText)}`;
  for (const field of Object.keys(input.details ?? {})) {
    if (ENVELOPE_FIELDS.has(field)) throw new Error(`evidence detail "${field}" would replace an envelope field`);
  }

  await tx.evidenceArtifact.createMany({
    data: [{ pointer: evidencePointer, tenantId, mediaType: 'application/json', content: recordText }],
    skipDuplicates: true,
  });

  const head = await lockChainHead(tx, chainId, tenantId);
  const sequence = head.sequence + 1;
  const unhashed: JsonObject = {
    ...(input.details ?? {}),
    id: randomUUID(),
    event_type: input.eventType,
    occurred_at: occurredAt,
    tenant_id: tenantId,
    actor: input.actor,
    outcome: input.outcome,
    sequence,
    evidence_pointer: evidencePointer,
    correlation_id: input.correlationId,
    chain_id: chainId,
    ...snapshots,
    ...(input.refusal ? refusalFields(input) : {}),
    ...(head.eventHash ? { prev_hash: head.eventHash } : {}),
  };
  const eventHash = contentDigest(unhashed);
  const event = { ...unhashed, event_hash: eventHash } as EvidenceEvent;

  await tx.evidenceEvent.create({
    data: {
      id: event.id,
      chainId,
      sequence,
      tenantId,
      eventType: input.eventType,
      outcome: input.outcome,
      occurredAt: now,
      correlationId: input.correlationId,
      evidencePointer,
      prevHash: head.eventHash,
      eventHash,
      canonical: canonicalJson(event),
    },
  });
  await tx.chainHead.update({ where: { chainId }, data: { sequence, eventHash } });
  return event;
}

/** Creates the chain head on first use and locks it (until the transaction ends) in one round trip. */
async function lockChainHead(
  tx: LedgerTransaction,
  chainId: string,
  tenantId: string,
): Promise<{ sequence: number; eventHash: string | undefined }> {
  const rows = await tx.$queryRaw<Array<{ sequence: number; event_hash: string }>>`
    INSERT INTO audit_chain_heads (chain_id, tenant_id, sequence, event_hash)
    VALUES (${chainId}, ${tenantId}, 0, '')
    ON CONFLICT (chain_id) DO UPDATE SET chain_id = EXCLUDED.chain_id
    RETURNING sequence, event_hash`;
  const row = rows[0];
  if (!row) throw new Error(`chain head ${chainId} could not be locked`);
  return { sequence: row.sequence, eventHash: row.event_hash || undefined };
}

function snapshotFields(input: EvidenceInput): JsonObject {
  return {
    ...(input.authoritySnapshotId ? { authority_snapshot_id: input.authoritySnapshotId } : {}),
    ...(input.policySnapshotId ? { policy_snapshot_id: input.policySnapshotId } : {}),
  };
}

function refusalFields(input: EvidenceInput): JsonObject {
  const refusal = input.refusal!;
  return {
    refusal_reason_class: refusal.reasonClass,
    refusal_reason_code: refusal.reasonCode,
    refusal_subject: refusal.subject,
    refusal_reason: refusal.reason,
  };
}
