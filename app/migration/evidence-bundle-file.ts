import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { planBundle } from '../../lib/bundle/plan-bundle';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import { NCP_EVENT_TYPES, NCP_PROFILE } from '../../lib/bundle/profiles';
import { bundleTarGzStream } from '../../lib/bundle/stream-bundle';
import type { Database } from '../../lib/db/database';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import type { EvidenceBundleFile } from '../../lib/migration/export-source';
import { chainSource, repeatedPointers } from '../../subgraphs/audit/exports/chain-source';
import { exportEndpoints, producerOf } from '../../subgraphs/audit/exports/export-settings';

const ADMISSIBLE = 'ecs-evidence-admissible';

/**
 * The tenant's whole chain, as it stands, as a signed evidence bundle: planned and streamed
 * by the audit plane's own bundle code (the same bytes an evidence export of that range
 * gives), spooled to a temporary file so the package can declare its size before its bytes.
 * A chain holding No-Control declarations is exported with the NCP profile, where they verify.
 */
export async function writeEvidenceBundle({
  db,
  tenantId,
  signer,
  providerId,
  exportId,
  createdAt,
}: {
  db: Database;
  tenantId: string;
  signer: BundleSigner;
  providerId: string;
  exportId: string;
  createdAt: Date;
}): Promise<EvidenceBundleFile> {
  const chainId = chainIdFor(tenantId);
  const head = await db.prisma.chainHead.findUnique({ where: { chainId }, select: { sequence: true } });
  if (!head) throw new Error(`tenant ${tenantId} has no evidence chain`);
  const ncp = await db.prisma.evidenceEvent.findFirst({
    where: { chainId, eventType: { in: [...NCP_EVENT_TYPES] } },
    select: { id: true },
  });
  const scope = { tenantId, chainId, fromSequence: 1, toSequence: head.sequence, profileId: ncp ? NCP_PROFILE : ADMISSIBLE };
  const plan = await planBundle({
    source: chainSource(db, scope),
    scope,
    producer: producerOf({ providerId }),
    signer,
    exportId,
    createdAt,
    exportEndpoints,
    repeatedPointers: await repeatedPointers(db, scope),
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ecs-migration-bundle-'));
  const file = path.join(dir, 'bundle.tar.gz');
  try {
    await pipeline(bundleTarGzStream(plan, chainSource(db, scope)), createWriteStream(file));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const { size } = await stat(file);
  return {
    path: file,
    size,
    chunks: () => createReadStream(file),
    profileId: scope.profileId,
    hashProfileId: 'ecs-hash-v1',
    chainId,
    headSequence: head.sequence,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
