import type { Database } from '../../../lib/db/database';
import type { EvidenceEvent } from '../../../lib/evidence/evidence-event';
import { appendEvidence, evidenceTransaction } from '../../../lib/evidence/ledger';
import type { LedgerTransaction } from '../../../lib/evidence/ledger';
import { accepted, governanceFields } from './objects';
import type { StorageEvidence, StorageObjectVersion } from './objects';

/** Which version a lock operation applies to: the current one unless a version id is given. */
export interface VersionTarget {
  bucket: string;
  key: string;
  versionId?: string;
}

/** Why a retention change was not made; the caller records the refusal. */
export class RetentionChangeError extends Error {
  constructor(
    readonly reasonCode: 'retention_shortening_refused' | 'no_such_version',
    readonly version: StorageObjectVersion | null,
  ) {
    super(reasonCode);
  }
}

async function lockedVersion(tx: LedgerTransaction, target: VersionTarget): Promise<StorageObjectVersion | null> {
  let versionId = target.versionId;
  if (versionId === undefined) {
    const object = await tx.storageObject.findUnique({ where: { bucket_key: { bucket: target.bucket, key: target.key } } });
    versionId = object?.currentVersionId ?? undefined;
  }
  if (versionId === undefined) return null;
  // Row lock: concurrent lock changes of one version are applied one after the other.
  const rows = await tx.$queryRaw<Array<{ version_id: string }>>`
    SELECT version_id FROM data_object_versions WHERE version_id = ${versionId} AND bucket = ${target.bucket} AND key = ${target.key} FOR UPDATE`;
  if (rows.length === 0) return null;
  const version = await tx.storageObjectVersion.findUnique({ where: { versionId } });
  return version && !version.deleteMarker ? version : null;
}

/**
 * Places or releases a legal hold on a version, with `object.legal_hold` evidence that names
 * the previous state, the reason and the authority/policy context. Null when there is no such version.
 */
export async function setLegalHold(
  db: Database,
  target: VersionTarget & { tenantId: string },
  hold: { on: boolean; reason: string | undefined },
  evidence: StorageEvidence,
): Promise<{ version: StorageObjectVersion; event: EvidenceEvent } | null> {
  return evidenceTransaction(db, target.tenantId, async (tx) => {
    const before = await lockedVersion(tx, target);
    if (!before) return null;
    const version = await tx.storageObjectVersion.update({ where: { versionId: before.versionId }, data: { legalHold: hold.on } });
    const event = await appendEvidence(tx, {
      ...accepted(evidence),
      tenantId: target.tenantId,
      eventType: 'object.legal_hold',
      details: {
        action: hold.on ? 'object.legal_hold.on' : 'object.legal_hold.off',
        ...governanceFields(version),
        previous_legal_hold: before.legalHold,
        ...(hold.reason ? { reason: hold.reason } : {}),
      },
    });
    return { version, event };
  });
}

/**
 * Sets a version's retention to end at `until`, with `object.retention.change` evidence
 * (old and new values). Shortening a retention that is in force is refused unless
 * `mayShorten` (governance mode); the check runs under the row lock.
 */
export async function changeRetention(
  db: Database,
  target: VersionTarget & { tenantId: string },
  change: { retentionTtl: string; until: Date; bucketLockMode: string; mayShorten: (version: StorageObjectVersion) => boolean },
  evidence: StorageEvidence,
  now = new Date(),
): Promise<{ version: StorageObjectVersion; event: EvidenceEvent }> {
  return evidenceTransaction(db, target.tenantId, async (tx) => {
    const before = await lockedVersion(tx, target);
    if (!before) throw new RetentionChangeError('no_such_version', null);
    const inForce = before.retentionUntil !== null && before.retentionUntil.getTime() > now.getTime();
    const shortens = inForce && change.until.getTime() < before.retentionUntil!.getTime();
    if (shortens && !change.mayShorten(before)) throw new RetentionChangeError('retention_shortening_refused', before);
    const lockMode = change.until.getTime() > now.getTime() ? (before.lockMode ?? change.bucketLockMode) : before.lockMode;
    const version = await tx.storageObjectVersion.update({
      where: { versionId: before.versionId },
      data: { retentionTtl: change.retentionTtl, retentionUntil: change.until, lockMode },
    });
    const event = await appendEvidence(tx, {
      ...accepted(evidence),
      tenantId: target.tenantId,
      eventType: 'object.retention.change',
      details: {
        action: 'object.retention.change',
        ...governanceFields(version),
        previous_retention_ttl: before.retentionTtl,
        previous_retention_until: before.retentionUntil?.toISOString() ?? null,
        shortened: shortens,
      },
    });
    return { version, event };
  });
}
