import type { Database } from '../../lib/db/database';
import { getTenantsByIds } from '../../subgraphs/control/data/tenants';
import { findBucketsOfTenants, getBucketsByNames } from '../../subgraphs/data/records/buckets';
import { findCurrentVersion } from '../../subgraphs/data/records/objects';
import { findWorkloadsOfTenants } from '../../subgraphs/execution/data/workloads';
import { openMigratedTestDatabase } from '../../testkit/test-database';

// The reads every GraphQL query of a tenant, its workloads and its buckets makes go through
// the driver with hand-written column lists. Each must give exactly what Prisma's findMany
// gives for the same rows, so a column added to a model and not to its list fails here.
describe('plane reads through the driver', () => {
  let db: Database;
  let close: () => Promise<void>;
  const tenants = ['drv-a', 'drv-b', 'drv-empty'];

  beforeAll(async () => {
    ({ db, close } = await openMigratedTestDatabase());
    const base = { authorityBinding: 'auth-dev-001', classificationCeiling: 'confidential', policyBaseline: 'ecs-baseline-v1' };
    await db.prisma.tenant.createMany({
      data: [
        { id: 'drv-a', jurisdiction: 'DE', status: 'active', ...base },
        // Quotes, Unicode and a null-able column set: what the aliases must carry unchanged.
        { id: 'drv-b', jurisdiction: 'FR', status: 'migrated', migratedTo: 'https://target.example.eu/v1/tenants/drv-b?x="ü"', ...base },
        { id: 'drv-empty', jurisdiction: 'NL', status: 'suspended', ...base },
      ],
    });
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, 0, ms));
    await db.prisma.workload.createMany({
      data: [0, 1, 2, 3, 4].flatMap((i) =>
        ['drv-a', 'drv-b'].map((tenantId) => ({
          id: `${tenantId}-w${i}`,
          tenantId,
          envelopeType: 'container',
          imageRef: `registry.example.eu/app@sha256:${String(i).repeat(64)}`,
          policyRef: i % 2 ? null : `policy-${i}`,
          classification: 'internal',
          jurisdiction: 'DE',
          status: i === 3 ? 'failed' : 'running',
          // Two workloads of a tenant share a creation time: the id breaks the tie.
          createdAt: at(i === 4 ? 3 : i),
        })),
      ),
    });
    await db.prisma.bucket.createMany({
      data: [
        { name: 'drv-a-zeta', tenantId: 'drv-a', jurisdiction: 'DE', defaultClassification: 'internal', versioning: true },
        {
          name: 'drv-a-alpha',
          tenantId: 'drv-a',
          jurisdiction: 'DE',
          defaultClassification: 'public',
          lockMode: 'governance',
          defaultRetention: 'P30D',
        },
        { name: 'drv-b-only', tenantId: 'drv-b', jurisdiction: 'FR', defaultClassification: 'confidential' },
      ],
    });
  });
  afterAll(() => close());

  it('reads tenants as Prisma does, in the order asked, null for an unknown id', async () => {
    const ids = ['drv-b', 'nobody', 'drv-a', 'drv-empty'];
    const read = await getTenantsByIds({ db, ids });
    const prisma = await db.prisma.tenant.findMany({ where: { id: { in: ids } } });
    expect(read.map((tenant) => tenant?.id ?? null)).toEqual(['drv-b', null, 'drv-a', 'drv-empty']);
    for (const tenant of read.filter((row) => row !== null)) expect(tenant).toEqual(prisma.find((row) => row.id === tenant.id));
    expect(read[0]!.migratedTo).toBe('https://target.example.eu/v1/tenants/drv-b?x="ü"');
    expect(read[0]!.createdAt).toBeInstanceOf(Date);
  });

  it("reads each tenant's newest workloads as Prisma does, newest first, at most `first`", async () => {
    for (const first of [1, 3, 10]) {
      const read = await findWorkloadsOfTenants({ db, tenantIds: tenants, first });
      const expected = await Promise.all(
        tenants.map((tenantId) =>
          db.prisma.workload.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: first }),
        ),
      );
      expect(read).toEqual(expected);
    }
    const [a] = await findWorkloadsOfTenants({ db, tenantIds: ['drv-a'], first: 3 });
    expect(a!.map((workload) => workload.id)).toEqual(['drv-a-w4', 'drv-a-w3', 'drv-a-w2']);
  });

  it("reads each tenant's buckets as Prisma does, by name", async () => {
    const read = await findBucketsOfTenants({ db, tenantIds: tenants });
    const expected = await Promise.all(
      tenants.map((tenantId) => db.prisma.bucket.findMany({ where: { tenantId }, orderBy: { name: 'asc' } })),
    );
    expect(read).toEqual(expected);
    expect(read[0]!.map((bucket) => bucket.name)).toEqual(['drv-a-alpha', 'drv-a-zeta']);
    expect(read[2]).toEqual([]);
    const byName = await getBucketsByNames({ db, names: ['drv-b-only', 'none', 'drv-a-alpha'] });
    expect(byName).toEqual([expected[1]![0], null, expected[0]![0]]);
  });

  it("reads a key's current version as Prisma does, every column (a size past 2^53 included)", async () => {
    const objectId = '0c6f6c4e-8a53-4f7e-9d1e-6d0f3b0a1c11';
    await db.prisma.storageObject.create({ data: { id: objectId, bucket: 'drv-a-zeta', key: 'dir/ü "q".bin', tenantId: 'drv-a' } });
    const version = (versionId: string, extra: Record<string, unknown>) => ({
      versionId,
      objectId,
      bucket: 'drv-a-zeta',
      key: 'dir/ü "q".bin',
      tenantId: 'drv-a',
      ...extra,
    });
    await db.prisma.storageObjectVersion.createMany({
      data: [
        version('drv-v1', { sha256: 'a'.repeat(64), size: 5n, createdAt: new Date(Date.UTC(2026, 11, 7, 9)) }),
        version('drv-v2', {
          sha256: 'b'.repeat(64),
          s3Etag: 'c'.repeat(32),
          size: 2n ** 60n + 7n,
          contentType: 'application/octet-stream',
          jurisdiction: 'DE',
          retentionTtl: 'P30D',
          retentionUntil: new Date(Date.UTC(2027, 0, 6, 10, 0, 0, 123)),
          classification: 'internal',
          integrity: `sha256:${'b'.repeat(64)}`,
          evidencePointer: 'evidence://client/1',
          dataProductId: 'dp-1',
          usagePolicySnapshotId: 'ups-1',
          consentTokenRef: 'consent-1',
          legalHold: true,
          lockMode: 'governance',
          userMetadata: '{"mtime":"1"}',
          origin: 'multipart',
          putEvidencePointer: 'evidence://drv-a/2',
        }),
      ],
    });
    await db.prisma.storageObject.update({ where: { id: objectId }, data: { currentVersionId: 'drv-v2' } });
    const read = await findCurrentVersion(db, 'drv-a-zeta', 'dir/ü "q".bin');
    const prisma = await db.prisma.storageObject.findUnique({ where: { id: objectId }, include: { current: true } });
    expect(read).toEqual(prisma!.current);
    expect(read!.size).toBe(2n ** 60n + 7n);
    expect(await findCurrentVersion(db, 'drv-a-zeta', 'no such key')).toBeNull();
  });
});
