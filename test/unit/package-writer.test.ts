import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadSigningKeys } from '../../lib/keys/signing-keys';
import { PACKAGE_VERSION } from '../../lib/migration/package-manifest';
import { PackageWriter, compresses, jsonItem } from '../../lib/migration/package-writer';
import { verifyPackage } from '../../lib/migration/verify-package';

async function* slices(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

const text = (bytes: number): Buffer => Buffer.from('lorem ipsum dolor sit amet, '.repeat(Math.ceil(bytes / 28)).slice(0, bytes));

describe('package writer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ecs-package-writer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tells bytes that compress from bytes that do not', () => {
    expect(compresses(randomBytes(64 * 1024))).toBe(false);
    expect(compresses(text(64 * 1024))).toBe(true);
    expect(compresses(Buffer.alloc(0))).toBe(true);
    // Half random, half text: deflating still saves more than a tenth.
    expect(compresses(Buffer.concat([randomBytes(16 * 1024), text(48 * 1024)]))).toBe(true);
  });

  it('writes stored and deflated items in one gzip stream that reads back item by item', async () => {
    const random = [randomBytes(1024 * 1024 + 7), randomBytes(300_000)];
    const plain = [text(2 * 1024 * 1024), text(100)];
    const file = path.join(dir, 'mixed.tar.gz');
    const keys = await loadSigningKeys(path.join(dir, 'keys.json'));
    const writer = new PackageWriter(createWriteStream(file));
    // Alternating, so the level changes between items, several times.
    await writer.add(jsonItem('config', 'tenant.json', { id: 'tenant-a' }));
    await writer.add({ type: 'data_snapshot', path: 'objects/b/r1', size: random[0]!.length, content: slices(random[0]!, 65_536) });
    await writer.add({ type: 'data_snapshot', path: 'objects/b/t1', size: plain[0]!.length, content: slices(plain[0]!, 100_000) });
    await writer.add({ type: 'data_snapshot', path: 'objects/b/r2', size: random[1]!.length, content: slices(random[1]!, 4096) });
    await writer.add({ type: 'data_snapshot', path: 'objects/b/t2', size: plain[1]!.length, content: slices(plain[1]!, 10) });
    await writer.add({ type: 'data_snapshot', path: 'objects/b/empty', size: 0, content: slices(Buffer.alloc(0), 1) });
    await writer.finish(
      {
        version: PACKAGE_VERSION,
        created: new Date().toISOString(),
        source_provider: 'provider-a',
        tenant_id: 'tenant-a',
        scenario: 'data-only',
        evidence_profile_id: 'ecs-evidence-admissible',
        hash_profile_id: 'sha256',
        evidence_range: { chain_id: 'ecs:tenant:tenant-a', from_sequence: 1, to_sequence: 1 },
        governance_metadata: {},
        authority_snapshot_id: null,
        policy_snapshot_id: null,
        refused_items: [],
      },
      keys,
    );
    const verification = await verifyPackage(file, { jwks: keys.jwks });
    expect(verification.failures).toEqual([]);
    expect(verification.ok).toBe(true);
    expect(verification.manifest!.contents.map((item) => [item.path, item.size])).toEqual([
      ['tenant.json', expect.any(Number)],
      ['objects/b/r1', random[0]!.length],
      ['objects/b/t1', plain[0]!.length],
      ['objects/b/r2', random[1]!.length],
      ['objects/b/t2', 100],
      ['objects/b/empty', 0],
    ]);
    // The random bytes take their own size; the two megabytes of text were deflated.
    const randomBytesTotal = random[0]!.length + random[1]!.length;
    const { size } = await stat(file);
    expect(size).toBeGreaterThan(randomBytesTotal);
    expect(size).toBeLessThan(randomBytesTotal + 200 * 1024);
  });
});
