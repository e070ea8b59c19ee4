import type { BundleScope, BundleSource, SourceEvent } from '../../../lib/bundle/bundle-source';
import type { Database } from '../../../lib/db/database';
import type { EvidenceEvent } from '../../../lib/evidence/evidence-event';
import { chainReads, yieldTurn } from '../data/chain-reads';

/** Events read per round trip (a batch of ~2,000 canonical events is about 1.5 MB). */
const BATCH = 2000;

/**
 * The events of one chain range and their artifacts, as a bundle source: every pass reads
 * the range again in sequence order, 2,000 events per round trip, so memory stays flat
 * however long the range. Artifacts are looked up by pointer, whatever tenant row stored
 * them (content-addressed bytes are the same for everyone); the plan pass checks that
 * every evidence pointer's artifact is present and matches its digest.
 */
export function chainSource(db: Database, scope: Pick<BundleScope, 'chainId' | 'fromSequence' | 'toSequence'>): BundleSource {
  return {
    async *events() {
      // Through the chain-read slots, with a turn of the event loop per page (see chain-reads.ts).
      const reads = chainReads(db);
      let next = scope.fromSequence;
      while (next <= scope.toSequence) {
        const from = next;
        const rows = await reads.page(() =>
          db.prisma.evidenceEvent.findMany({
            where: { chainId: scope.chainId, sequence: { gte: from, lte: scope.toSequence } },
            orderBy: { sequence: 'asc' },
            take: BATCH,
            select: { sequence: true, canonical: true },
          }),
        );
        if (rows.length === 0) return;
        yield rows.map((row): SourceEvent => ({ text: row.canonical, event: JSON.parse(row.canonical) as EvidenceEvent }));
        next = rows[rows.length - 1]!.sequence + 1;
        await yieldTurn(undefined);
      }
    },
    async artifacts(pointers) {
      if (pointers.length === 0) return new Map();
      const rows = await db.prisma.evidenceArtifact.findMany({
        where: { pointer: { in: [...pointers] } },
        select: { pointer: true, content: true },
      });
      return new Map(rows.map((row) => [row.pointer, Buffer.from(row.content, 'utf8')]));
    },
  };
}

/**
 * Evidence pointers that more than one event of the range uses, each with the first
 * sequence using it (so the bundle holds its artifact once). Decision records are nearly
 * always distinct; the database groups the range, not this process.
 */
export async function repeatedPointers(
  db: Database,
  scope: Pick<BundleScope, 'chainId' | 'fromSequence' | 'toSequence'>,
): Promise<Map<string, number>> {
  const rows = await db.prisma.$queryRaw<Array<{ pointer: string; first: number }>>`
    SELECT evidence_pointer AS pointer, min(sequence)::int AS first
      FROM audit_evidence_events
     WHERE chain_id = ${scope.chainId} AND sequence BETWEEN ${scope.fromSequence} AND ${scope.toSequence}
     GROUP BY evidence_pointer
    HAVING count(*) > 1
     LIMIT 100001`;
  if (rows.length > 100_000) throw new Error('more than 100,000 evidence pointers are shared by several events of the range');
  return new Map(rows.map((row) => [row.pointer, Number(row.first)]));
}
