import path from 'node:path';
import fc from 'fast-check';
import { openDatabase } from '../../lib/db/database';
import type { Database } from '../../lib/db/database';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import { recordEvidence } from '../../lib/evidence/ledger';
import { MERKLE_BLOCK, foldedLeaves, lockMerkleState } from '../../lib/evidence/merkle-state/merkle-nodes';
import { loadSigningKeys } from '../../lib/keys/signing-keys';
import type { SigningKeys } from '../../lib/keys/signing-keys';
import { buildConsistencyDocument, buildInclusionDocument } from '../../lib/proofs/proof-document';
import { signChainHead } from '../../subgraphs/audit/data/checkpoints';
import { proveConsistency, proveInclusion } from '../../subgraphs/audit/data/proofs';
import { makeTempDir } from '../../testkit/temp-dir';
import { createTestDatabase } from '../../testkit/test-database';
import type { TestDatabase } from '../../testkit/test-database';
import { fillSyntheticChain } from '../support/fill-chain';
import { uniqueId } from '../support/test-stack';

/** A handle on `db` whose evidence-event and Merkle-node reads count the rows they return. */
function countingReads(db: Database): { db: Database; rows: { events: number; nodes: number } } {
  const rows = { events: 0, nodes: 0 };
  const counted = (delegate: object, kind: keyof typeof rows): object =>
    new Proxy(delegate, {
      get: (target, method) => {
        const value: unknown = Reflect.get(target, method);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const result: unknown = await value.apply(target, args);
          rows[kind] += Array.isArray(result) ? result.length : result ? 1 : 0;
          return result;
        };
      },
    });
  const prisma = new Proxy(db.prisma, {
    get: (target, property) => {
      if (property === 'evidenceEvent') return counted(target.evidenceEvent, 'events');
      if (property === 'merkleNode') return counted(target.merkleNode, 'nodes');
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  // The Merkle state's own reads go straight on the driver: counted by the table they read.
  const query: Database['query'] = async <T>(sql: string, params?: unknown[]) => {
    const result = await db.query<T>(sql, params);
    if (/\bFROM audit_evidence_events\b/.test(sql)) rows.events += result.length;
    if (/\bFROM audit_merkle_nodes\b/.test(sql)) rows.nodes += result.length;
    return result;
  };
  return { db: { ...db, prisma, query }, rows };
}

describe('stored Merkle state of evidence chains', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let database: TestDatabase;
  let db: Database;
  let keys: SigningKeys;

  /** Opens the database as a process starting would: a new client over the same data. */
  async function open(): Promise<void> {
    db = await openDatabase({ dataDir: dir.path, databaseUrl: database.databaseUrl });
  }

  beforeAll(async () => {
    dir = await makeTempDir('ecs-merkle-');
    database = await createTestDatabase();
    await open();
    await db.migrate();
    keys = await loadSigningKeys(path.join(dir.path, 'signing-keys.json'));
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
    await dir.remove();
  });

  /** Appends through the ledger's grouped path (the folding after commit runs as in service). */
  async function append(tenantId: string, count: number): Promise<void> {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        recordEvidence(db, [{ tenantId, eventType: 'workload.admit', actor: 'writer', outcome: 'accepted', correlationId: `c-${i}` }]),
      ),
    );
  }

  async function eventHashes(tenantId: string): Promise<string[]> {
    const rows = await db.prisma.evidenceEvent.findMany({
      where: { chainId: chainIdFor(tenantId) },
      orderBy: { sequence: 'asc' },
      select: { eventHash: true },
    });
    return rows.map((row) => row.eventHash);
  }

  /**
   * The stored state as a process leaves it that stopped after folding the first `folded`
   * leaves. Under the lock the folding writes under: the appends' own folding may still be
   * running, and a step of it committed while the rows were being deleted would survive the
   * cut past a hole (node 9:0 gone, blocks 2 and 3 kept), a state no writer
   * can leave, since nothing but this test removes stored nodes.
   */
  async function cutStoredState(tenantId: string, folded: number): Promise<void> {
    const chainId = chainIdFor(tenantId);
    await db.prisma.$transaction(async (tx) => {
      await lockMerkleState(tx, chainId);
      await tx.$executeRaw`DELETE FROM audit_merkle_nodes WHERE chain_id = ${chainId} AND (idx::bigint + 1) * (1::bigint << level) > ${folded}`;
    });
  }

  /** Head, inclusion and consistency as the audit plane answers them, against merkle.ts over every hash. */
  async function expectFullRecomputation(tenantId: string, at: { size: number; leaf: number }): Promise<void> {
    const hashes = await eventHashes(tenantId);
    const n = hashes.length;
    const head = await signChainHead({ db, keys, tenantId });
    expect(head).toMatchObject({ sequence: n, headHash: hashes[n - 1], merkleRoot: buildInclusionDocument(hashes, 0).root });
    const size = 1 + Math.floor(at.size * n);
    const tree = hashes.slice(0, size);
    const index = Math.floor(at.leaf * size);
    const inclusion = await proveInclusion({ db, keys, tenantId, sequence: index + 1, treeSize: size });
    const { checkpoint: _signed, ...inclusionDocument } = inclusion.document;
    expect(inclusionDocument).toEqual(buildInclusionDocument(tree, index, chainIdFor(tenantId)));
    expect(inclusion.checkpoint).toMatchObject({ sequence: size, headHash: tree[size - 1], merkleRoot: inclusion.root });
    const consistency = await proveConsistency({ db, keys, tenantId, fromSize: index + 1, toSize: size });
    const { checkpoint: _second, first_checkpoint: _first, ...consistencyDocument } = consistency.document;
    expect(consistencyDocument).toEqual(buildConsistencyDocument(tree, index + 1, chainIdFor(tenantId)));
    expect(consistency.firstCheckpoint).toMatchObject({ sequence: index + 1, headHash: tree[index] });
  }

  it('roots and proofs equal a full recomputation on random chain lengths, across restarts and partial folding (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          before: fc.integer({ min: 1, max: 1300 }),
          after: fc.integer({ min: 0, max: 700 }),
          restart: fc.boolean(),
          cut: fc.double({ min: 0, max: 1, noNaN: true }),
          size: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          leaf: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        }),
        async ({ before, after, restart, cut, size, leaf }) => {
          const tenantId = uniqueId('m');
          await append(tenantId, before);
          // A new process over the same database, whatever the folding after commit had done.
          if (restart) {
            await db.close();
            await open();
          }
          await cutStoredState(tenantId, Math.floor((cut * before) / MERKLE_BLOCK) * MERKLE_BLOCK);
          await append(tenantId, after);
          await expectFullRecomputation(tenantId, { size, leaf });
        },
      ),
      { numRuns: 8 },
    );
  });

  /** The leaves folded once they reach `leaves`, or after 20 s. */
  async function foldedOnceAt(tenantId: string, leaves: number): Promise<number> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const folded = await foldedLeaves({ client: db.prisma, chainId: chainIdFor(tenantId) });
      if (folded >= leaves || Date.now() > deadline) return folded;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('folds completed blocks after commit, without a reader', async () => {
    const tenantId = uniqueId('w');
    await append(tenantId, 3 * MERKLE_BLOCK + 5);
    expect(await foldedOnceAt(tenantId, 3 * MERKLE_BLOCK)).toBe(3 * MERKLE_BLOCK);
  });

  it('a stored node is never rewritten: the database refuses an UPDATE, whoever connects', async () => {
    const tenantId = uniqueId('u');
    await append(tenantId, MERKLE_BLOCK + 1);
    expect(await foldedOnceAt(tenantId, MERKLE_BLOCK)).toBe(MERKLE_BLOCK);
    await expect(
      db.query('UPDATE audit_merkle_nodes SET hash = $2 WHERE chain_id = $1', [chainIdFor(tenantId), Buffer.alloc(32)]),
    ).rejects.toThrow('a Merkle node never changes');
    const head = await signChainHead({ db, keys, tenantId });
    expect(head.merkleRoot).toBe(buildInclusionDocument(await eventHashes(tenantId), 0).root);
  });

  it('a head or proof of a long chain reads a bounded number of event hashes, not the chain', async () => {
    const tenantId = uniqueId('long');
    const n = 20_000;
    await fillSyntheticChain(db, { tenantId, count: n });
    const counting = countingReads(db);
    // The chain was written around the ledger: the first reader folds it, reading it once.
    await signChainHead({ db: counting.db, keys, tenantId });
    expect(counting.rows.events).toBeGreaterThanOrEqual(n);
    await append(tenantId, 300);
    expect(await foldedOnceAt(tenantId, n + 300 - ((n + 300) % MERKLE_BLOCK))).toBe(n + 300 - ((n + 300) % MERKLE_BLOCK));
    const reads = async (read: (db: Database) => Promise<unknown>): Promise<{ events: number; nodes: number }> => {
      const { db: counted, rows } = countingReads(db);
      await read(counted);
      return rows;
    };
    // Two blocks of 256 hashes at most, the head and the sizes checked, and O(log n) nodes.
    const bound = { events: 2 * MERKLE_BLOCK + 4, nodes: 3 * 15 + 4 };
    for (const read of [
      (counted: Database) => signChainHead({ db: counted, keys, tenantId }),
      (counted: Database) => proveInclusion({ db: counted, keys, tenantId, sequence: 7_777 }),
      (counted: Database) => proveInclusion({ db: counted, keys, tenantId, sequence: n + 299, treeSize: n + 299 }),
      (counted: Database) => proveConsistency({ db: counted, keys, tenantId, fromSize: 12_345 }),
    ]) {
      const rows = await reads(read);
      expect(rows.events).toBeLessThanOrEqual(bound.events);
      expect(rows.nodes).toBeLessThanOrEqual(bound.nodes);
    }
    await expectFullRecomputation(tenantId, { size: 0.99, leaf: 0.37 });
  });
});
