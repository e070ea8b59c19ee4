import { z } from 'zod';
import { actorOf } from '../../../lib/auth/caller';
import { canonicalJson, sha256Digest } from '../../../lib/evidence/canonical-json';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize } from '../../../lib/subgraph/authorize';
import { governAction } from '../../../lib/subgraph/governed-action';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { toStoredEvent } from '../../../lib/evidence/stored-event';
import type { StoredEvent } from '../../../lib/evidence/stored-event';
import { ARTIFACT_POINTER_PREFIX } from '../exports/snapshot-artifacts';
import type { NcpDeclarationInput } from '../generated/resolvers-types';
import { NCP_DECLARATION_TYPES } from '../../../lib/domain/ncp-declarations';
import type { NcpDeclarationType } from '../../../lib/domain/ncp-declarations';

/** The four declarations of `no-control-profile.md` and the proof artifact each carries. */
export const NCP_DECLARATIONS: Readonly<Record<NcpDeclarationType, string>> = {
  'authority.graph.publish': 'authority_graph',
  'key.custody.declare': 'key_custody_model',
  'controlplane.ownership.declare': 'controlplane_ownership',
  'telemetry.path.audit': 'telemetry_egress_map',
};

/** Event type of refused declarations: not itself a declaration (it carries no artifact). */
const REFUSAL_EVENT_TYPE = 'ncp.declare';
/** Largest artifact accepted, as canonical JSON. */
const MAX_ARTIFACT_BYTES = 256 * 1024;

const declarationInput = z
  .object({
    tenantId: z.string().min(1).max(63).nullish(),
    type: z.enum(NCP_DECLARATION_TYPES, { error: `must be one of ${NCP_DECLARATION_TYPES.join(', ')}` }),
    artifact: z.record(z.string(), z.unknown()),
    artifactRef: z.string().max(200).nullish(),
    artifactHash: z.string().max(100).nullish(),
    subjectId: z.string().min(1).max(200).nullish(),
  })
  .strict();

export interface NcpDeclaration {
  artifactType: string;
  artifactRef: string;
  artifactHash: string;
  event: StoredEvent;
}

function invalid(message: string, field: string): EcsError {
  return new EcsError(ErrorCode.ValidationFailed, message, { field });
}

/** The artifact as canonical JSON, its hash and its content-addressed reference; checks the caller's expectations. */
function contentAddress(input: z.infer<typeof declarationInput>): { content: string; hash: string; ref: string } {
  if (input.artifact.record_type === 'ecs.decision-record') throw invalid('an artifact may not pose as a decision record', 'artifact');
  const content = canonicalJson(input.artifact as JsonObject);
  if (Buffer.byteLength(content) > MAX_ARTIFACT_BYTES) throw invalid(`is larger than ${MAX_ARTIFACT_BYTES} bytes`, 'artifact');
  const hash = sha256Digest(content);
  const ref = `${ARTIFACT_POINTER_PREFIX}${hash}`;
  if (input.artifactHash != null && input.artifactHash !== hash)
    throw invalid(`does not match the artifact (its hash is ${hash})`, 'artifactHash');
  if (input.artifactRef != null && input.artifactRef !== ref) throw invalid(`must be the artifact's content address ${ref}`, 'artifactRef');
  return { content, hash, ref };
}

/**
 * Records a No-Control Profile declaration: authorised (`ncp.declare`) under the tenant's
 * authority binding, for an active tenant; the artifact is stored content-addressed and the
 * declaration event (`artifact_type`, `artifact_ref`, `artifact_hash`) appended in the same
 * transaction. Refusals are evidenced as `ncp.declare` events.
 */
export async function declareNoControl(context: PlaneContext, rawInput: NcpDeclarationInput): Promise<NcpDeclaration> {
  const input = parseInput(declarationInput, rawInput);
  const tenantId = input.tenantId ?? context.caller.tenantId;
  if (!tenantId) throw invalid('tenantId is required for callers without a tenant', 'tenantId');
  await authorize(context, 'ncp.declare', tenantId);
  const { content, hash, ref } = contentAddress(input);
  const { authoritySnapshotId } = await governAction(context, { action: 'ncp.declare', eventType: REFUSAL_EVENT_TYPE, tenantId });
  const artifactType = NCP_DECLARATIONS[input.type];
  const fields: JsonObject = {
    artifact_type: artifactType,
    artifact_ref: ref,
    artifact_hash: hash,
    ...(input.subjectId ? { subject_id: input.subjectId } : {}),
  };
  const event = await evidenceTransaction(context.db, tenantId, async (tx) => {
    await tx.evidenceArtifact.createMany({
      data: [{ pointer: ref, tenantId, mediaType: 'application/json', content }],
      skipDuplicates: true,
    });
    return appendEvidence(tx, {
      tenantId,
      eventType: input.type,
      actor: actorOf(context.caller),
      outcome: 'accepted',
      correlationId: context.correlationId,
      authoritySnapshotId,
      details: { action: 'ncp.declare', ...fields },
      record: fields,
    });
  });
  return { artifactType, artifactRef: ref, artifactHash: hash, event: toStoredEvent({ canonical: canonicalJson(event) }) };
}
