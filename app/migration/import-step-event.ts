import type { Database } from '../../lib/db/database';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { chainIdFor } from '../../lib/evidence/evidence-event';

/**
 * The `migration.<step>` event of one import in the tenant's chain here, when there is one:
 * each step's transaction commits its event with its change, so finding the event is how a
 * step retried after a crash knows it was done.
 */
export async function importStepEvent(
  db: Database,
  tenantId: string,
  eventType: string,
  importId: string,
): Promise<{ pointer: string; event: JsonObject } | undefined> {
  const rows = await db.prisma.evidenceEvent.findMany({
    where: { chainId: chainIdFor(tenantId), eventType },
    select: { canonical: true, evidencePointer: true },
  });
  for (const row of rows) {
    const event = JSON.parse(row.canonical) as JsonObject;
    if (event.import_id === importId) return { pointer: row.evidencePointer, event };
  }
  return undefined;
}
