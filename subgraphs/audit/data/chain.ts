import type { Database } from '../../../lib/db/database';
import { sha256Digest } from '../../../lib/evidence/canonical-json';
import { ChainVerifier } from '../../../lib/evidence/chain-verifier';
import { chainIdFor } from '../../../lib/evidence/evidence-event';
import { EVIDENCE_POINTER_PREFIX } from '../../../lib/evidence/ledger';
import { SLICE, chainReads, yieldTurn } from './chain-reads';

/**
 * Events read per round trip while verifying: a page of 500 takes about 15 ms on the
 * embedded database, which runs it on this thread (2,000 took over 100 ms).
 */
const BATCH = 500;

export interface ChainVerification {
  tenantId: string;
  chainId: string;
  valid: boolean;
  checked: number;
  fromSequence: number;
  toSequence: number | null;
  firstBadSequence: number | null;
  reason: string | null;
}

const eventColumns = {
  id: true,
  chainId: true,
  sequence: true,
  tenantId: true,
  eventType: true,
  outcome: true,
  evidencePointer: true,
  prevHash: true,
  eventHash: true,
  canonical: true,
} as const;

/**
 * Recomputes a chain from the stored events between two sequences: hashes, links,
 * sequence continuity, stored columns against the hashed event, and each evidence
 * pointer against its artifact. Reads in pages (memory stays flat for long chains) through
 * the chain-read slots, and verifies in slices between turns of the event loop, so a long
 * chain neither holds the database pool nor the process (see chain-reads.ts). Stops when
 * `signal` is aborted.
 */
export async function verifyChain({
  db,
  tenantId,
  fromSequence = 1,
  toSequence,
  signal,
}: {
  db: Database;
  tenantId: string;
  fromSequence?: number;
  toSequence?: number;
  signal?: AbortSignal;
}): Promise<ChainVerification> {
  const chainId = chainIdFor(tenantId);
  const head = await db.prisma.evidenceEvent.aggregate({ where: { chainId }, _max: { sequence: true } });
  const headSequence = head._max.sequence ?? 0;
  const to = toSequence ?? headSequence;
  const result = (verifier: ChainVerifier): ChainVerification => ({
    tenantId,
    chainId,
    valid: !verifier.failure,
    checked: verifier.checked,
    fromSequence,
    toSequence: to,
    firstBadSequence: verifier.failure?.sequence ?? null,
    reason: verifier.failure?.reason ?? null,
  });

  const verifier = new ChainVerifier();
  if (fromSequence > 1) {
    // A range starts after the event before it, whose own hash is recomputed too.
    const before = await db.prisma.evidenceEvent.findUnique({
      where: { chainId_sequence: { chainId, sequence: fromSequence - 1 } },
      select: eventColumns,
    });
    if (!before) {
      verifier.fail(fromSequence - 1, `sequence ${fromSequence - 1} is missing`);
      return result(verifier);
    }
    if (!verifier.anchor(before.canonical, before)) return result(verifier);
  }

  const reads = chainReads(db);
  let next = fromSequence;
  while (next <= to && !verifier.failure) {
    const from = next;
    const { rows, byPointer } = await reads.page(async () => {
      const rows = await db.prisma.evidenceEvent.findMany({
        where: { chainId, sequence: { gte: from, lte: to } },
        orderBy: { sequence: 'asc' },
        take: BATCH,
        select: eventColumns,
      });
      const artifacts = rows.length
        ? await db.prisma.evidenceArtifact.findMany({
            where: { pointer: { in: [...new Set(rows.map((row) => row.evidencePointer))] } },
            select: { pointer: true, tenantId: true, content: true },
          })
        : [];
      return { rows, byPointer: new Map(artifacts.map((artifact) => [artifact.pointer, artifact])) };
    });
    if (rows.length === 0) break;
    for (const [index, row] of rows.entries()) {
      if (index > 0 && index % SLICE === 0) await yieldTurn(signal);
      if (!verifier.push(row.canonical, row)) break;
      const artifact = byPointer.get(row.evidencePointer);
      if (!artifact || artifact.tenantId !== row.tenantId) {
        verifier.fail(row.sequence, 'evidence artifact is missing');
        break;
      }
      if (`${EVIDENCE_POINTER_PREFIX}${sha256Digest(artifact.content)}` !== row.evidencePointer) {
        verifier.fail(row.sequence, 'evidence artifact does not match its pointer');
        break;
      }
    }
    next = rows[rows.length - 1]!.sequence + 1;
    await yieldTurn(signal);
  }
  if (!verifier.failure && (verifier.head?.sequence ?? fromSequence - 1) < to) {
    verifier.fail((verifier.head?.sequence ?? fromSequence - 1) + 1, 'events are missing at the end of the range');
  }
  return result(verifier);
}
