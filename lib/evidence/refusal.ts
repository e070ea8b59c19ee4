import type { Database } from '../db/database';
import { EcsError, ErrorCode } from '../errors';
import type { ErrorCode as ErrorCodeType } from '../errors';
import type { EvidenceInput, Refusal } from './evidence-event';
import { safeJson } from '../input/unsafe-text';
import { recordEvidence } from './ledger';

/**
 * Writes a refusal's evidence in a statement of its own and returns the error to throw,
 * carrying the evidence pointer. When the evidence cannot be written the caller still
 * gets a refusal (no evidence, no action), marked as a dependency failure.
 */
export async function recordRefusal(
  db: Database,
  input: EvidenceInput & { refusal: Refusal },
  error: { code: ErrorCodeType; message: string },
): Promise<EcsError> {
  try {
    const recorded = { ...input, actor: safeJson(input.actor), refusal: safeJson(input.refusal), details: safeJson(input.details) };
    const [event] = await recordEvidence(db, [{ ...recorded, outcome: 'refused' }]);
    return new EcsError(error.code, safeJson(error.message), { evidencePointer: event!.evidence_pointer });
  } catch (cause) {
    return new EcsError(ErrorCode.DependencyUnavailable, `${error.message} (the refusal could not be recorded)`, {
      internal: cause,
    });
  }
}
