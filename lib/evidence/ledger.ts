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
export async function appendEvidence(tx: LedgerTransaction, input: EvidenceInput, now: Date = new Date()): Promise<EvidenceEvent> {
  const tenantId = input.tenantId ?? PLATFORM_TENANT;
  const chainId = chainIdFor(input.tenantId);
  assertOwnDetails(input);

  // Everything that does not depend on the chain position is prepared before the lock.
  const record = decisionRecord(input, now);
  await tx.evidenceArtifact.createMany({
    data: [{ pointer: record.pointer, tenantId, mediaType: 'application/json', content: record.text }],
    skipDuplicates: true,
  });

  const head = await lockChainHead(tx, chainId, tenantId);
  const { event, canonical } = buildEvent(
    input,
    { id: randomUUID(), sequence: head.sequence + 1, prevHash: head.eventHash, occurredAt: now },
    record,
  );

  await tx.evidenceEvent.create({
    data: {
      id: event.id,
      chainId,
      sequence: event.sequence,
      tenantId,
      eventType: input.eventType,
      outcome: input.outcome,
      occurredAt: now,
      correlationId: input.correlationId,
      evidencePointer: record.pointer,
      prevHash: head.eventHash,
      eventHash: event.event_hash,
      canonical,
    },
  });
  await tx.chainHead.update({ where: { chainId }, data: { sequence: event.sequence, eventHash: event.event_hash } });
  return event;
}

/** The decision record behind an event's evidence pointer, as the artifacts table stores it. */
export interface DecisionRecord {
  /** The record's canonical JSON. */
  text: string;
  /** `eosc://evidence/sha256:<hex>` of `text`. */
  pointer: string;
}

/** Where an event stands in its chain, and when it occurred. */
export interface ChainPosition {
  /** The event's id (`appendEvidence` draws a random UUID). */
  id: string;
  sequence: number;
  /** `event_hash` of the event before it; none for a chain's first event. */
  prevHash?: string | null;
  occurredAt: Date;
}

/** One event exactly as the ledger stores it. */
export interface BuiltEvent {
  /** The envelope with its `event_hash`. */
  event: EvidenceEvent;
  /** The event's canonical JSON (the stored text the chain verifier reads). */
  canonical: string;
  record: DecisionRecord;
}

/** The decision record of `input` decided at `occurredAt`, and its evidence pointer. */
export function decisionRecord(input: EvidenceInput, occurredAt: Date): DecisionRecord {
  const record: JsonObject = {
    record_type: 'ecs.decision-record',
    tenant_id: input.tenantId ?? PLATFORM_TENANT,
    correlation_id: input.correlationId,
    event_type: input.eventType,
    actor: input.actor,
    decision: input.outcome,
    decided_at: occurredAt.toISOString(),
    ...snapshotFields(input),
    ...(input.refusal ? refusalFields(input) : {}),
    ...(input.record ?? {}),
  };
  const text = canonicalJson(record);
  return { text, pointer: `${EVIDENCE_POINTER_PREFIX}${sha256Digest(text)}` };
}

/**
 * The event the ledger appends for `input` at `position`: the canonical envelope, its
 * `event_hash` (linked to `prevHash`) and the evidence pointer of its decision record. Pure:
 * no database, no clock, no random id, so whoever builds events outside a transaction
 * (bulk loads, synthetic chains) builds them byte for byte as an append would.
 * @throws Error when a detail would replace an envelope field
 */
export function buildEvent(
  input: EvidenceInput,
  position: ChainPosition,
  record: DecisionRecord = decisionRecord(input, position.occurredAt),
): BuiltEvent {
  assertOwnDetails(input);
  const tenantId = input.tenantId ?? PLATFORM_TENANT;
  const unhashed: JsonObject = {
    ...(input.details ?? {}),
    id: position.id,
    event_type: input.eventType,
    occurred_at: position.occurredAt.toISOString(),
    tenant_id: tenantId,
    actor: input.actor,
    outcome: input.outcome,
    sequence: position.sequence,
    evidence_pointer: record.pointer,
    correlation_id: input.correlationId,
    chain_id: chainIdFor(input.tenantId),
    ...snapshotFields(input),
    ...(input.refusal ? refusalFields(input) : {}),
    ...(position.prevHash ? { prev_hash: position.prevHash } : {}),
  };
  const event = { ...unhashed, event_hash: contentDigest(unhashed) } as EvidenceEvent;
  return { event, canonical: canonicalJson(event), record };
}

function assertOwnDetails(input: EvidenceInput): void {
  for (const field of Object.keys(input.details ?? {})) {
    if (ENVELOPE_FIELDS.has(field)) throw new Error(`evidence detail "${field}" would replace an envelope field`);
  }
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
