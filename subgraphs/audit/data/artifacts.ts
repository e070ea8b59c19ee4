import type { Database } from '../../../lib/db/database';
import { sha256Digest } from '../../../lib/evidence/canonical-json';
import { EVIDENCE_POINTER_PREFIX } from '../../../lib/evidence/ledger';

export interface ResolvedArtifact {
  pointer: string;
  tenantId: string;
  mediaType: string;
  content: Record<string, unknown>;
  digest: string;
  verified: boolean;
}

/**
 * The artifact behind an evidence pointer, only when it belongs to `tenantId`: a pointer
 * of another tenant resolves to nothing, exactly like an unknown one.
 */
export async function findArtifact({
  db,
  pointer,
  tenantId,
}: {
  db: Database;
  pointer: string;
  tenantId: string;
}): Promise<ResolvedArtifact | null> {
  if (!pointer.startsWith(EVIDENCE_POINTER_PREFIX) || pointer.length > 200) return null;
  const row = await db.prisma.evidenceArtifact.findFirst({ where: { pointer, tenantId } });
  if (!row) return null;
  const digest = sha256Digest(row.content);
  return {
    pointer: row.pointer,
    tenantId: row.tenantId,
    mediaType: row.mediaType,
    content: JSON.parse(row.content) as Record<string, unknown>,
    digest,
    verified: `${EVIDENCE_POINTER_PREFIX}${digest}` === row.pointer,
  };
}
