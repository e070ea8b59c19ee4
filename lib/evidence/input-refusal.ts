import { createHash } from 'node:crypto';
import type { Caller } from '../auth/caller';
import { actorOf } from '../auth/caller';
import type { Database } from '../db/database';
import { EcsError, ErrorCode } from '../errors';
import type { InputFinding } from '../input/request-input';
import { describeProblem, escapeForEvidence } from '../input/unsafe-text';
import { chainIdFor } from './evidence-event';
import type { RefusalThrottle } from './refusal-throttle';

/** A request value the service refuses to carry (see lib/input); turned into a 400 with evidence. */
export class MalformedInput extends Error {
  constructor(readonly finding: InputFinding) {
    super(malformedInputMessage(finding));
  }
}

export function malformedInputMessage(finding: InputFinding): string {
  return `${finding.field} ${describeProblem(finding.problem)}`;
}

/** The principal a throttle source names: API key, or issuer and subject. */
export function principalOf(caller: Caller | undefined): string {
  if (!caller) return 'unauthenticated';
  return caller.apiKeyId ? `key:${caller.apiKeyId}` : `sub:${caller.issuer ?? ''}|${caller.subject}`;
}

/** The chain of the caller's own tenant when it has one, else the platform chain (never a tenant the bad value names). */
export async function chainTenant(db: Database, caller: Caller | undefined): Promise<string | undefined> {
  const tenantId = caller?.tenantId;
  if (tenantId === undefined) return undefined;
  const head = await db.prisma.chainHead.findUnique({ where: { chainId: chainIdFor(tenantId) }, select: { chainId: true } });
  return head ? tenantId : undefined;
}

/**
 * Records the refusal of malformed input (`request.refusal`, bounded per principal and
 * problem by the throttle) and returns the 400 to send. The offending value is kept only
 * escaped, with its length and a digest of its UTF-16 code units, so the event can always
 * be written. When even that fails the caller still gets the 400, without a pointer.
 */
export async function refuseMalformedInput(options: {
  db: Database;
  throttle: RefusalThrottle;
  caller: Caller | undefined;
  correlationId: string;
  /** What was asked: `POST /v1/workloads`, `graphql`, `websocket subscribe`. */
  request: string;
  finding: InputFinding;
  onUnrecorded?(error: unknown): void;
}): Promise<EcsError> {
  const { finding } = options;
  const message = malformedInputMessage(finding);
  try {
    const tenantId = await chainTenant(options.db, options.caller);
    const pointer = await options.throttle.record(
      `input|${principalOf(options.caller)}|${finding.problem}`,
      {
        tenantId,
        actor: options.caller ? actorOf(options.caller) : 'unauthenticated',
        correlationId: options.correlationId,
        eventType: 'request.refusal',
        refusal: {
          reasonClass: 'evidence_precondition_failed',
          reasonCode: `malformed_input_${finding.problem}`,
          subject: options.request,
          reason: message,
        },
        details: {
          field: escapeForEvidence(finding.field),
          problem: finding.problem,
          ...(finding.value !== undefined
            ? {
                value_excerpt: escapeForEvidence(finding.value),
                value_length: finding.value.length,
                value_digest: `sha256:${createHash('sha256').update(Buffer.from(finding.value, 'utf16le')).digest('hex')}`,
              }
            : {}),
          ...(options.caller?.authMethod ? { auth_method: options.caller.authMethod } : {}),
        },
      },
      options.throttle.perSource,
    );
    return new EcsError(ErrorCode.BadRequest, message, { evidencePointer: pointer, field: escapeForEvidence(finding.field) });
  } catch (error) {
    options.onUnrecorded?.(error);
    return new EcsError(ErrorCode.BadRequest, message, { field: escapeForEvidence(finding.field) });
  }
}
