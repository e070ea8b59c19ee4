import { z } from 'zod';
import { actorOf } from '../../../lib/auth/caller';
import type { Caller } from '../../../lib/auth/caller';
import { NCP_EVENT_TYPES, NCP_PROFILE } from '../../../lib/bundle/profiles';
import type { Database } from '../../../lib/db/database';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { chainIdFor } from '../../../lib/evidence/evidence-event';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize, refuse } from '../../../lib/subgraph/authorize';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { headSequence } from '../data/chain-hashes';
import type { EvidenceExportInput } from '../generated/resolvers-types';
import { EXPORT_EVENT_TYPE, ExportLimitReached, createExport } from './export-store';
import type { EvidenceExport } from './export-store';
import { DEFAULT_EXPORT_SETTINGS, EXPORT_PROFILES } from './export-settings';
import { announceQueuedExport } from './export-worker';

const sequence = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);
const exportInput = z
  .object({
    tenantId: z.string().min(1).max(63).nullish(),
    evidenceProfileId: z.enum(EXPORT_PROFILES, { error: `must be one of ${EXPORT_PROFILES.join(', ')}` }),
    fromSequence: sequence.nullish(),
    toSequence: sequence.nullish(),
    occurredFrom: z.date().nullish(),
    occurredTo: z.date().nullish(),
  })
  .strict()
  .refine((input) => !((input.fromSequence || input.toSequence) && (input.occurredFrom || input.occurredTo)), {
    message: 'give a sequence range or a time range, not both',
    path: ['occurredFrom'],
  });

/** The key the per-principal limit counts by: the API key, or the token's issuer and subject. */
export function principalOf(caller: Caller): string {
  return caller.apiKeyId ? `key:${caller.apiKeyId}` : `sub:${caller.issuer ?? ''}|${caller.subject}`;
}

const invalid = (message: string, field: string): EcsError => new EcsError(ErrorCode.ValidationFailed, message, { field });

/** The sequence range of a time window: the first and last event that occurred in it. */
async function timeRange(db: Database, tenantId: string, from: Date | undefined, to: Date | undefined): Promise<[number, number]> {
  if (from && to && from >= to) throw invalid('occurredTo must be after occurredFrom', 'occurredTo');
  // (tenant_id, occurred_at) is indexed; a tenant has one chain.
  const found = await db.prisma.evidenceEvent.aggregate({
    where: { tenantId, occurredAt: { ...(from ? { gte: from } : {}), ...(to ? { lt: to } : {}) } },
    _min: { sequence: true },
    _max: { sequence: true },
  });
  if (found._min.sequence === null || found._max.sequence === null)
    throw invalid('no event of the chain occurred in the time range', 'occurredFrom');
  return [found._min.sequence, found._max.sequence];
}

/**
 * The range to export, fixed now: at most the head as it is at request time, so the
 * export's own `evidence.export` events (appended after it) never change what it covers.
 */
async function resolveRange(
  db: Database,
  tenantId: string,
  input: z.infer<typeof exportInput>,
  maxEvents: number,
): Promise<[number, number]> {
  const chainId = chainIdFor(tenantId);
  const head = await headSequence({ db, chainId });
  if (head === 0) throw invalid(`${chainId} has no evidence events to export`, 'tenantId');
  let [from, to] = [input.fromSequence ?? 1, input.toSequence ?? head];
  if (input.occurredFrom || input.occurredTo)
    [from, to] = await timeRange(db, tenantId, input.occurredFrom ?? undefined, input.occurredTo ?? undefined);
  if (from > to) throw invalid(`toSequence ${to} is below fromSequence ${from}`, 'toSequence');
  if (to > head) throw invalid(`toSequence ${to} is beyond the chain head ${head}`, 'toSequence');
  if (to - from + 1 > maxEvents) {
    throw invalid(`the range holds ${to - from + 1} events; one export holds at most ${maxEvents} (export it in parts)`, 'toSequence');
  }
  return [from, to];
}

/** NCP declarations verify only in an ecs-evidence-ncp bundle: refuse a range that would not. */
async function assertProfileFits(db: Database, chainId: string, profileId: string, from: number, to: number): Promise<void> {
  if (profileId === NCP_PROFILE) return;
  const declaration = await db.prisma.evidenceEvent.findFirst({
    where: { chainId, sequence: { gte: from, lte: to }, eventType: { in: [...NCP_EVENT_TYPES] } },
    orderBy: { sequence: 'asc' },
    select: { sequence: true, eventType: true },
  });
  if (declaration) {
    throw invalid(
      `sequence ${declaration.sequence} is a No-Control Profile declaration (${declaration.eventType}): export this range with ${NCP_PROFILE}`,
      'evidenceProfileId',
    );
  }
}

/** Queues an export (an evidenced action); the worker builds the bundle after the answer. */
export async function requestExport(context: PlaneContext, rawInput: EvidenceExportInput): Promise<EvidenceExport> {
  const input = parseInput(exportInput, rawInput);
  const tenantId = input.tenantId ?? context.caller.tenantId;
  if (!tenantId) throw invalid('tenantId is required for callers without a tenant', 'tenantId');
  await authorize(context, 'evidence.export', tenantId);
  const settings = context.config?.exports ?? DEFAULT_EXPORT_SETTINGS;
  const chainId = chainIdFor(tenantId);
  const [fromSequence, toSequence] = await resolveRange(context.db, tenantId, input, settings.maxEvents);
  await assertProfileFits(context.db, chainId, input.evidenceProfileId, fromSequence, toSequence);
  const request = {
    tenantId,
    chainId,
    profileId: input.evidenceProfileId,
    fromSequence,
    toSequence,
    principal: principalOf(context.caller),
    actor: actorOf(context.caller),
    correlationId: context.correlationId,
  };
  let created: EvidenceExport;
  try {
    created = await createExport({ db: context.db, request, limit: settings.perPrincipal });
  } catch (error) {
    if (!(error instanceof ExportLimitReached)) throw error;
    throw await refuse(context, {
      tenantId,
      action: 'evidence.export',
      eventType: EXPORT_EVENT_TYPE,
      reasonClass: 'policy_denied',
      reasonCode: 'export_limit_reached',
      reason: `${error.message}; retry when one has finished`,
      code: ErrorCode.RateLimited,
    });
  }
  announceQueuedExport();
  return created;
}
