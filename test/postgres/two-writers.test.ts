import { spawn } from 'node:child_process';
import path from 'node:path';
import { openDatabase } from '../../lib/db/database';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import { verifyChain } from '../../subgraphs/audit/data/chain';
import { createPostgresDatabase } from '../../testkit/test-database';

const ROOT = path.resolve(__dirname, '..', '..');

function runWorker(databaseUrl: string, tenant: string, count: number, concurrency: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [require.resolve('tsx/cli'), 'test/support/append-worker.ts', databaseUrl, tenant, String(count), String(concurrency)],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.on('error', reject);
    child.on('exit', resolve);
  });
}

describe('two processes appending to one tenant on PostgreSQL', () => {
  it('give one valid gap-free chain', async () => {
    const database = await createPostgresDatabase();
    const db = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: '/nonexistent' });
    try {
      await db.migrate();
      const tenant = 'two-writers';
      const codes = await Promise.all([runWorker(database.databaseUrl, tenant, 150, 8), runWorker(database.databaseUrl, tenant, 150, 8)]);
      expect(codes).toEqual([0, 0]);
      const rows = await db.prisma.evidenceEvent.findMany({
        where: { chainId: chainIdFor(tenant) },
        orderBy: { sequence: 'asc' },
        select: { sequence: true, canonical: true },
      });
      expect(rows.map((row) => row.sequence)).toEqual(Array.from({ length: 300 }, (_, n) => n + 1));
      const actors = new Set(rows.map((row) => (JSON.parse(row.canonical) as { actor: string }).actor));
      expect(actors.size).toBe(2);
      expect(await verifyChain({ db, tenantId: tenant })).toMatchObject({ valid: true, checked: 300 });
    } finally {
      await db.close();
      await database.drop();
    }
  });
});
