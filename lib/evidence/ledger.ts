import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../prisma/generated/client';
import type { Database } from '../db/database';
import { canonicalJson, contentDigest, sha256Digest } from './canonical-json';
import type { JsonObject } from './canonical-json';
import { ENVELOPE_FIELDS, PLATFORM_TENANT, chainIdFor } from './evidence-event';
import { announceCommitted } from './commit-announcer';
import { CombinedRuns } from './combined-statements';
import { eventTemplate } from './event-template';
import { foldCommitted } from './merkle-state/fold-after-commit';
import type { EventTemplate } from './event-template';
import { evidenceAppendDuration, evidenceAppends, evidenceLockWait, secondsSince } from '../metrics/service-metrics';
import type { EvidenceEvent, EvidenceInput } from './evidence-event';

export type LedgerTransaction = Prisma.TransactionClient;

export const EVIDENCE_POINTER_PREFIX = 'eosc://evidence/';

/** Events sent in one statement by `recordEvidence` (appends piled up on a chain, or of several chains). */
const MAX_GROUPED_EVENTS = 256;

/** Combined own statements under way at once per process (at most the pool size). */
const COMBINED_STATEMENTS_RUNNING = 2;

/**
 * Events of one combined statement on the embedded database, whose statements run on the
 * event loop's thread: about 20 ms of work, so timers and I/O get their turns during a burst.
 */
const MAX_COMBINED_EVENTS_EMBEDDED = 64;

/**
 * Appends one evidence event to its chain inside the caller's transaction, so the
 * governed state change and its evidence commit together or not at all. One statement.
 *
 * Appends to one chain are serialised by a row lock on the chain head (held until the
 * caller's transaction ends); different chains append in parallel. Open the transaction
 * with `evidenceTransaction`, so that the process runs one transaction per chain at a time
 * and none of its transactions waits for that lock behind another of its own.
 */
export async function appendEvidence(tx: LedgerTransaction, input: EvidenceInput, now: Date = new Date()): Promise<EvidenceEvent> {
  const [event] = await appendEvidenceBatch(tx, [input], now);
  return event!;
}

/**
 * Appends several events, in order, in one statement inside the caller's transaction (the
 * two events of an object read, a refusal and its throttle summary).
 */
export async function appendEvidenceBatch(
  tx: LedgerTransaction,
  inputs: EvidenceInput[],
  now: Date = new Date(),
): Promise<EvidenceEvent[]> {
  const events = await appendPrepared(
    inTransaction(tx),
    inputs.map((input) => prepareEvent(input, now)),
  );
  rememberAppended(tx, events);
  return events;
}

/**
 * Appends the events of one action with no other change to commit (a refusal, a read) in
 * a statement of their own, behind the chain's queue. While a statement runs, the appends
 * that arrive for the same chain wait and then go together in the next one (one commit for
 * them all); should that grouped statement fail, each action is retried alone, so one
 * action's failure is never another's.
 * @throws Error when the inputs name more than one chain
 */
export async function recordEvidence(db: Database, inputs: EvidenceInput[], now: Date = new Date()): Promise<EvidenceEvent[]> {
  const prepared = inputs.map((input) => prepareEvent(input, now));
  const chainId = prepared[0]?.chainId;
  if (chainId === undefined) return [];
  if (prepared.some((event) => event.chainId !== chainId)) throw new Error('recordEvidence appends to one chain per call');
  const groups = pendingGroups(db);
  let group = groups.get(chainId);
  if (!group) {
    group = { actions: [] };
    groups.set(chainId, group);
  }
  const pending = group;
  return new Promise<EvidenceEvent[]>((resolve, reject) => {
    pending.actions.push({ events: prepared, resolve, reject, queued: performance.now() });
    if (pending.actions.length === 1) {
      db.serialize(chainId, () => flushGroup(db, chainId, pending)).catch((error: unknown) => refuseGroup(pending, error));
    }
  });
}

/**
 * Runs `work` in a transaction behind the chain's queue: use it for every transaction that
 * appends to the chain of `tenantId` (undefined: the platform chain). `timeoutMs` bounds a
 * long transaction (a tenant import) beyond Prisma's default of 5 s.
 */
export function evidenceTransaction<T>(
  db: Database,
  tenantId: string | undefined,
  work: (tx: LedgerTransaction) => Promise<T>,
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<T> {
  const queued = performance.now();
  return db.serialize(chainIdFor(tenantId), async () => {
    evidenceLockWait.observe(secondsSince(queued));
    const started = performance.now();
    let transaction: LedgerTransaction | undefined;
    const result = await db.prisma
      .$transaction(
        (tx) => {
          transaction = tx;
          return work(tx);
        },
        timeoutMs === undefined ? undefined : { timeout: timeoutMs },
      )
      .catch((error: unknown) => {
        evidenceAppends.inc({ outcome: 'failed' });
        throw error;
      });
    const events = appendedIn(transaction);
    evidenceAppendDuration.observe(secondsSince(started));
    if (events.length) evidenceAppends.inc({ outcome: 'committed' }, events.length);
    committed(db, events);
    return result;
  });
}

/**
 * A governed change written in the statement that appends its evidence: `sql` is a
 * data-modifying statement with `RETURNING`, with its parameters `$1`..`$n`: an INSERT
 * without `ON CONFLICT` (it inserts every row or fails), or an UPDATE or DELETE of rows the
 * transaction has already locked. The events are appended only if it returned a row.
 * `alongside`: further data-modifying statements of the same statement, with the same
 * parameters. All of them see the database as it was before the statement: none sees
 * another's rows (PostgreSQL's data-modifying `WITH`).
 */
export interface GovernedChange {
  sql: string;
  params: unknown[];
  alongside?: string[];
}

/** What `changeWithEvidence` and `appendEvidenceWithChange` answer. */
export interface ChangeWithEvents {
  /** The rows the change returned, as JSON objects (timestamps as ISO text). */
  rows: JsonObject[];
  events: EvidenceEvent[];
}

/**
 * Writes a governed change and appends its events in one statement on the driver, behind the
 * chain's queue: the change runs as a data-modifying `WITH` of the statement that appends the
 * events, so both commit together or not at all, in one round trip and one implicit
 * transaction instead of Prisma's interactive one (BEGIN, each statement, COMMIT). The events
 * are appended only if the change returned a row.
 * @throws Error when the inputs name no chain or more than one, or the change returned no row
 */
export function changeWithEvidence(
  db: Database,
  change: GovernedChange,
  inputs: EvidenceInput[],
  now: Date = new Date(),
): Promise<ChangeWithEvents> {
  let prepared: PreparedEvent[];
  try {
    prepared = prepareOneChain(inputs, now);
  } catch (error) {
    return Promise.reject(error);
  }
  const queued = performance.now();
  return db.serialize(prepared[0]!.chainId, async () => {
    const started = performance.now();
    evidenceLockWait.observe((started - queued) / 1000);
    let written: ChangeWithEvents;
    try {
      written = await writeChange((sql, params) => db.query<ChangeAnswer>(sql, params), change, prepared);
    } catch (error) {
      evidenceAppends.inc(FAILED);
      throw error;
    }
    evidenceAppendDuration.observe(secondsSince(started));
    evidenceAppends.inc(COMMITTED, written.events.length);
    committed(db, written.events);
    return written;
  });
}

/**
 * `changeWithEvidence` inside the caller's transaction (opened with `evidenceTransaction`):
 * the change and the append in one statement, for a governed change that first reads or
 * locks what it changes in the same transaction. The events are announced once it commits.
 * @throws Error when the inputs name no chain or more than one, or the change returned no row
 */
export async function appendEvidenceWithChange(
  tx: LedgerTransaction,
  change: GovernedChange,
  inputs: EvidenceInput[],
  now: Date = new Date(),
): Promise<ChangeWithEvents> {
  const written = await writeChange(
    (sql, params) => tx.$queryRawUnsafe<ChangeAnswer[]>(sql, ...params),
    change,
    prepareOneChain(inputs, now),
  );
  rememberAppended(tx, written.events);
  return written;
}

/**
 * The evidence pointer of the decision record that `input`, appended with the same `now`,
 * will have: for a change that stores the pointer in the statement of its append.
 */
export function evidencePointerOf(input: EvidenceInput, now: Date): string {
  return decisionRecord(input, now).pointer;
}

function prepareOneChain(inputs: EvidenceInput[], now: Date): PreparedEvent[] {
  const prepared = inputs.map((input) => prepareEvent(input, now));
  const chainId = prepared[0]?.chainId;
  if (chainId === undefined || prepared.some((event) => event.chainId !== chainId)) {
    throw new Error('a governed change appends one or more events to one chain');
  }
  return prepared;
}

interface ChangeAnswer {
  changed: JsonObject[] | null;
  appended: AppendedRow[] | null;
}

async function writeChange(
  run: (sql: string, params: unknown[]) => Promise<ChangeAnswer[]>,
  change: GovernedChange,
  prepared: PreparedEvent[],
): Promise<ChangeWithEvents> {
  let rows: JsonObject[] = [];
  const events = await appendPrepared(async (payload) => {
    const [answer] = await run(changeStatement(change), [...change.params, payload]);
    rows = answer?.changed ?? [];
    if (rows.length === 0) throw new Error('the governed change wrote no row: nothing was appended');
    return answer?.appended ?? [];
  }, prepared);
  return { rows, events };
}

/** The statements of governed changes, by their parts (a few fixed texts). */
const changeStatements = new Map<string, string>();

function changeStatement(change: GovernedChange): string {
  const alongside = change.alongside ?? [];
  const key = [change.sql, ...alongside].join('\u0000');
  let sql = changeStatements.get(key);
  if (sql === undefined) {
    const payload = `$${change.params.length + 1}`;
    sql =
      `WITH change AS (${change.sql}), ` +
      alongside.map((statement, index) => `alongside_${index} AS (${statement}), `).join('') +
      `appended AS (SELECT a.id, a.sequence, a.prev_hash, a.event_hash FROM audit_append_evidence(${payload}::json) AS a ` +
      'WHERE EXISTS (SELECT 1 FROM change)) ' +
      'SELECT (SELECT json_agg(change) FROM change) AS changed, ' +
      '(SELECT json_agg(appended ORDER BY appended.sequence) FROM appended) AS appended';
    changeStatements.set(key, sql);
  }
  return sql;
}

/**
 * After a commit: announces the events to the live streams and folds the blocks they complete
 * into their chains' Merkle state, both outside the appending transaction.
 */
function committed(db: Database, events: EvidenceEvent[]): void {
  announceCommitted(db, events);
  foldCommitted(db, events);
}

/** Events appended through each open transaction client, announced once it commits. */
const appendedByTransaction = new WeakMap<object, EvidenceEvent[]>();

/** Keeps events appended through `tx`, to announce once it commits. */
function rememberAppended(tx: LedgerTransaction, events: EvidenceEvent[]): void {
  const appended = appendedByTransaction.get(tx);
  if (appended) appended.push(...events);
  else appendedByTransaction.set(tx, [...events]);
}

function appendedIn(transaction: LedgerTransaction | undefined): EvidenceEvent[] {
  return (transaction && appendedByTransaction.get(transaction)) ?? [];
}

interface PendingAction {
  events: PreparedEvent[];
  resolve: (events: EvidenceEvent[]) => void;
  reject: (error: unknown) => void;
  /** When the action was handed in (`performance.now()`). */
  queued: number;
}

interface PendingGroup {
  actions: PendingAction[];
}

const pendingByDatabase = new WeakMap<Database, Map<string, PendingGroup>>();

function pendingGroups(db: Database): Map<string, PendingGroup> {
  let groups = pendingByDatabase.get(db);
  if (!groups) {
    groups = new Map();
    pendingByDatabase.set(db, groups);
  }
  return groups;
}

/** The counter's labels, made once: flushes are on the hot path. */
const COMMITTED = { outcome: 'committed' } as const;
const FAILED = { outcome: 'failed' } as const;

/**
 * The queue refused (full): every action of the group is refused with it. Not counted as a
 * failed append, like an evidence transaction the queue refuses: nothing was attempted.
 */
function refuseGroup(group: PendingGroup, error: unknown): void {
  for (const action of group.actions.splice(0)) action.reject(error);
}

/**
 * Appends the group's first actions in one statement. Metered once per flush, like an
 * evidence transaction: the wait of its oldest action, the statement's duration, the
 * committed events, and each action that failed.
 */
async function flushGroup(db: Database, chainId: string, group: PendingGroup): Promise<void> {
  const started = performance.now();
  const actions: PendingAction[] = [];
  let events = 0;
  while (group.actions.length && (actions.length === 0 || events + group.actions[0]!.events.length <= MAX_GROUPED_EVENTS)) {
    const action = group.actions.shift()!;
    actions.push(action);
    events += action.events.length;
  }
  if (group.actions.length === 0) pendingGroups(db).delete(chainId);
  else {
    // The rest goes in the next statement, behind the actions that arrived meanwhile.
    const rest: PendingGroup = { actions: group.actions.splice(0) };
    pendingGroups(db).set(chainId, rest);
    db.serialize(chainId, () => flushGroup(db, chainId, rest)).catch((error: unknown) => refuseGroup(rest, error));
  }
  evidenceLockWait.observe((started - actions[0]!.queued) / 1000);
  try {
    const appended = await appendOwnStatement(
      db,
      actions.flatMap((action) => action.events),
    );
    evidenceAppendDuration.observe(secondsSince(started));
    evidenceAppends.inc(COMMITTED, appended.length);
    committed(db, appended);
    let at = 0;
    for (const action of actions) {
      action.resolve(appended.slice(at, at + action.events.length));
      at += action.events.length;
    }
  } catch (error) {
    if (actions.length === 1) {
      evidenceAppends.inc(FAILED);
      return actions[0]!.reject(error);
    }
    let appendedAlone = 0;
    let failed = 0;
    for (const action of actions) {
      await appendPrepared(onItsOwn(db), action.events).then(
        (events) => {
          appendedAlone += events.length;
          committed(db, events);
          action.resolve(events);
        },
        (failure: unknown) => {
          failed += 1;
          action.reject(failure);
        },
      );
    }
    evidenceAppendDuration.observe(secondsSince(started));
    if (appendedAlone) evidenceAppends.inc(COMMITTED, appendedAlone);
    if (failed) evidenceAppends.inc(FAILED, failed);
  }
}

/**
 * The chain's events go in this process's next combined statement, with the events of other
 * chains (one round trip and one commit for all). The chain's queue runs one work at a time,
 * so no other work of this process holds the chain head's lock meanwhile, and the combined
 * statement waits for no lock of this process.
 */
function appendOwnStatement(db: Database, events: PreparedEvent[]): Promise<EvidenceEvent[]> {
  let combined = combinedByDatabase.get(db);
  if (!combined) {
    combined = new CombinedRuns(
      (prepared) => appendPrepared(onItsOwn(db), prepared),
      (prepared) => prepared[0]!.chainId,
      Math.min(COMBINED_STATEMENTS_RUNNING, db.poolSize),
      db.kind === 'pglite' ? MAX_COMBINED_EVENTS_EMBEDDED : MAX_GROUPED_EVENTS,
    );
    combinedByDatabase.set(db, combined);
  }
  return combined.submit(events);
}

const combinedByDatabase = new WeakMap<Database, CombinedRuns<PreparedEvent, EvidenceEvent>>();

/** An event with everything but its chain position. */
interface PreparedEvent {
  input: EvidenceInput;
  chainId: string;
  tenantId: string;
  id: string;
  occurredAt: Date;
  record: DecisionRecord;
  fields: JsonObject;
  template: EventTemplate;
}

function prepareEvent(input: EvidenceInput, now: Date): PreparedEvent {
  const id = input.eventId ?? randomUUID();
  const record = decisionRecord(input, now);
  const fields = envelopeFields(input, id, now, record);
  return {
    input,
    chainId: chainIdFor(input.tenantId),
    tenantId: input.tenantId ?? PLATFORM_TENANT,
    id,
    occurredAt: now,
    record,
    fields,
    template: eventTemplate(fields),
  };
}

interface AppendedRow {
  id: string;
  sequence: number;
  prev_hash: string | null;
  event_hash: string;
}

/** Runs `audit_append_evidence` with a payload and returns its rows. */
type AppendStatement = (payload: string) => Promise<AppendedRow[]>;

const APPEND_SQL = 'SELECT id, sequence, prev_hash, event_hash FROM audit_append_evidence($1::json)';

/** The statement inside the caller's transaction (through Prisma, whose transaction it is). */
function inTransaction(tx: LedgerTransaction): AppendStatement {
  return (payload) => tx.$queryRawUnsafe<AppendedRow[]>(APPEND_SQL, payload);
}

/** The statement on its own, straight on the driver. */
function onItsOwn(db: Database): AppendStatement {
  return (payload) => db.query<AppendedRow>(APPEND_SQL, [payload]);
}

/** One statement: `audit_append_evidence` (prisma/migrations/*_evidence_append_function, its head lock since *_evidence_append_head_lock). */
async function appendPrepared(run: AppendStatement, events: PreparedEvent[]): Promise<EvidenceEvent[]> {
  if (events.length === 0) return [];
  const payload = JSON.stringify(
    events.map((event) => ({
      chain_id: event.chainId,
      tenant_id: event.tenantId,
      event_id: event.id,
      event_type: event.input.eventType,
      outcome: event.input.outcome,
      occurred_at: event.occurredAt.toISOString(),
      correlation_id: event.input.correlationId,
      pointer: event.record.pointer,
      record: event.record.text,
      before_hash: event.template.beforeHash,
      before_prev: event.template.beforePrev,
      before_sequence: event.template.beforeSequence,
      after_sequence: event.template.afterSequence,
    })),
  );
  const rows = await run(payload);
  if (rows.length !== events.length) throw new Error(`the ledger appended ${rows.length} of ${events.length} events`);
  return events.map((event, index) => {
    const row = rows[index]!;
    if (row.id !== event.id) throw new Error('the ledger answered for another event');
    return {
      ...event.fields,
      sequence: Number(row.sequence),
      ...(row.prev_hash ? { prev_hash: row.prev_hash } : {}),
      event_hash: row.event_hash,
    } as EvidenceEvent;
  });
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
  const unhashed: JsonObject = {
    ...envelopeFields(input, position.id, position.occurredAt, record),
    sequence: position.sequence,
    ...(position.prevHash ? { prev_hash: position.prevHash } : {}),
  };
  const event = { ...unhashed, event_hash: contentDigest(unhashed) } as EvidenceEvent;
  return { event, canonical: canonicalJson(event), record };
}

/** The members of an event that do not depend on its chain position (all but `sequence`, `prev_hash`, `event_hash`). */
function envelopeFields(input: EvidenceInput, id: string, occurredAt: Date, record: DecisionRecord): JsonObject {
  assertOwnDetails(input);
  return {
    ...(input.details ?? {}),
    id,
    event_type: input.eventType,
    occurred_at: occurredAt.toISOString(),
    tenant_id: input.tenantId ?? PLATFORM_TENANT,
    actor: input.actor,
    outcome: input.outcome,
    evidence_pointer: record.pointer,
    correlation_id: input.correlationId,
    chain_id: chainIdFor(input.tenantId),
    ...snapshotFields(input),
    ...(input.refusal ? refusalFields(input) : {}),
  };
}

function assertOwnDetails(input: EvidenceInput): void {
  for (const field of Object.keys(input.details ?? {})) {
    if (ENVELOPE_FIELDS.has(field)) throw new Error(`evidence detail "${field}" would replace an envelope field`);
  }
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
