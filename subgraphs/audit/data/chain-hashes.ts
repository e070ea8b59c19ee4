import type { Database } from '../../../lib/db/database';

/** The chain's head sequence (0 for an empty chain). */
export async function headSequence({ db, chainId }: { db: Database; chainId: string }): Promise<number> {
  const head = await db.prisma.evidenceEvent.aggregate({ where: { chainId }, _max: { sequence: true } });
  return head._max.sequence ?? 0;
}
