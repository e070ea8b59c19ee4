// A separate process that appends evidence to one tenant's chain on a PostgreSQL server:
// tsx test/support/append-worker.ts <databaseUrl> <tenantId> <count> <concurrency>
import { openDatabase } from '../../lib/db/database';
import { appendEvidence, evidenceTransaction } from '../../lib/evidence/ledger';

async function main(): Promise<void> {
  const [databaseUrl, tenantId, count, concurrency] = process.argv.slice(2);
  const db = await openDatabase({ databaseUrl, dataDir: '/nonexistent' });
  let next = 0;
  const total = Number(count);
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      await evidenceTransaction(db, tenantId!, (tx) =>
        appendEvidence(tx, {
          tenantId: tenantId!,
          eventType: 'workload.admit',
          actor: `process-${process.pid}`,
          outcome: 'accepted',
          correlationId: `${process.pid}-${n}`,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, worker));
  await db.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
