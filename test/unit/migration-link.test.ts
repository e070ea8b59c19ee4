import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvidenceEvent } from '../../lib/evidence/evidence-event';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import { MAX_LINK_IMPORTS, SourceHeads, TargetImports, checkMigrationLink, verifyMigrationBundles } from '../../lib/bundle/migration-link';
import type { MigrationLink } from '../../lib/bundle/migration-link';
import { importDetails, sourceChain, targetChain, writeChainBundle } from '../support/migration-bundles';
import { testSigner } from '../support/bundles';
import { makeTempDir } from '../../testkit/temp-dir';

const TENANT = 'acme';

/** The link of two event lists, as the observers see them during the bundles' passes. */
function link(target: readonly EvidenceEvent[], source: readonly EvidenceEvent[]): MigrationLink {
  const imports = new TargetImports();
  for (const event of target) imports.observe(event);
  const heads = new SourceHeads(imports.wantedSequences());
  for (const event of source) heads.observe(event);
  return checkMigrationLink(imports, heads);
}

describe('checkMigrationLink', () => {
  // The source exported at sequence 4, then went on (migration.complete at 5).
  const source = sourceChain(TENANT, 4, { complete: true }).events;
  const head = source[3]!;

  it('passes when the migration.import names the source chain and the hash of its event at the head sequence', () => {
    const result = link(targetChain(TENANT, [importDetails(head)]).events, source);
    expect(result.ok).toBe(true);
    expect(result.detail).toBe(
      `target ecs:tenant:acme sequence 1 (migration.import mim-1) continues source ecs:tenant:acme at sequence 4 (${head.event_hash})`,
    );
    expect(result).toMatchObject({ target_chain_id: 'ecs:tenant:acme', source_chain_id: 'ecs:tenant:acme', not_examined: 0 });
    expect(result.linked).toMatchObject({ sequence: 1, import_id: 'mim-1', source_head_sequence: 4, package_digest: expect.any(String) });
  });

  it('fails without a migration.import in the target', () => {
    const result = link(sourceChain('beta', 3).events, source);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe("the target bundle's chain ecs:tenant:beta holds no migration.import event (it holds sequences 1..3)");
    expect(link([], source).detail).toMatch(/^the target bundle yielded no events/);
  });

  it('fails when the migration.import names another chain', () => {
    const result = link(targetChain(TENANT, [importDetails(head, { source_chain_id: 'ecs:tenant:other' })]).events, source);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      "migration.import mim-1 at target sequence 1 names source chain ecs:tenant:other, the source bundle's chain is ecs:tenant:acme",
    );
  });

  it('fails when the source holds no event at the head sequence', () => {
    const result = link(targetChain(TENANT, [importDetails(head)]).events, source.slice(0, 3));
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      'migration.import mim-1 at target sequence 1 records source head sequence 4, the source bundle holds no event there (it holds sequences 1..3)',
    );
    expect(link(targetChain(TENANT, [importDetails(head)]).events, []).detail).toMatch(/the source bundle yielded no events/);
  });

  it('fails when the hash differs', () => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const result = link(targetChain(TENANT, [importDetails(head, { source_head_hash: wrong })]).events, source);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      `migration.import mim-1 at target sequence 1 records source head sequence 4 with hash ${wrong}, the source bundle's event there has ${head.event_hash}`,
    );
  });

  it('fails on a migration.import whose link fields are missing or malformed', () => {
    const result = link(
      targetChain(TENANT, [importDetails(head, { source_head_sequence: '4', source_head_hash: head.event_hash.toUpperCase() })]).events,
      source,
    );
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      'migration.import mim-1 at target sequence 1 cannot link: source_head_sequence is not a positive integer; source_head_hash is not sha256:<hex>',
    );
  });

  it('after a rollback and a re-import: any migration.import that links proves it, the latest is reported', () => {
    const rolledBack = importDetails(source[1]!, { import_id: 'mim-old', source_head_hash: `sha256:${'1'.repeat(64)}` });
    const reimport = importDetails(head, { import_id: 'mim-new' });
    const result = link(targetChain(TENANT, [rolledBack, reimport]).events, source);
    expect(result.ok).toBe(true);
    expect(result.linked).toMatchObject({ import_id: 'mim-new', sequence: 2 });
    expect(result.detail).toContain('(1 of 2 migration.import events link; the latest is shown)');
    expect(result.imports.map((item) => item.links)).toEqual([false, true]);

    const neither = link(
      targetChain(TENANT, [rolledBack, importDetails(head, { import_id: 'mim-new', source_chain_id: 'x' })]).events,
      source,
    );
    expect(neither.ok).toBe(false);
    expect(neither.detail).toMatch(
      /^none of the 2 migration\.import events links to the source bundle: migration\.import mim-old .*; migration\.import mim-new/,
    );
  });

  it('keeps at most MAX_LINK_IMPORTS imports and one hash per wanted sequence: memory independent of the chains', () => {
    const imports = new TargetImports();
    const event = targetChain(TENANT, [importDetails(head)], 0).events[0]!;
    for (let i = 0; i < MAX_LINK_IMPORTS + 5; i += 1) imports.observe({ ...event, sequence: i + 1 });
    expect(imports.imports).toHaveLength(MAX_LINK_IMPORTS);
    expect(imports.notExamined).toBe(5);
    expect([...imports.wantedSequences()]).toEqual([4]);

    const heads = new SourceHeads(new Set([4]));
    const long = sourceChain(TENANT, 300).events;
    for (const item of long) heads.observe(item);
    expect([...heads.hashes]).toEqual([[4, long[3]!.event_hash]]);
    expect(heads.chain).toEqual({ chainId: 'ecs:tenant:acme', events: 300, firstSequence: 1, lastSequence: 300 });
  });

  it('keeps no oversized field', () => {
    const result = link(targetChain(TENANT, [importDetails(head, { source_chain_id: 'x'.repeat(100_000) })]).events, source);
    expect(result.imports[0]!.source_chain_id).toBeNull();
    expect(result.detail).toContain('source_chain_id is not a string of at most 512 characters');
  });
});

describe('verifyMigrationBundles (real signed bundles)', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let sourceSigner: BundleSigner;
  let targetSigner: BundleSigner;
  const source = sourceChain(TENANT, 4, { complete: true });
  const head = source.events[3]!;
  beforeAll(async () => {
    temp = await makeTempDir('ecs-migration-link-');
    sourceSigner = await testSigner(temp.path, 'source-keys.json');
    targetSigner = await testSigner(temp.path, 'target-keys.json');
    await writeChainBundle(source, path.join(temp.path, 'source'), sourceSigner);
    await writeChainBundle(targetChain(TENANT, [importDetails(head)]), path.join(temp.path, 'target'), targetSigner);
  });
  afterAll(() => temp.remove());

  const options = () => ({ source: { jwks: sourceSigner.jwks }, target: { jwks: targetSigner.jwks } });

  it('passes: both bundles verify with their own keys and the link holds', async () => {
    const seen: string[] = [];
    const result = await verifyMigrationBundles(path.join(temp.path, 'source'), path.join(temp.path, 'target'), {
      ...options(),
      onVerified: (which) => seen.push(which),
    });
    expect(result.source.ok && result.target.ok && result.link.ok && result.ok).toBe(true);
    expect(seen).toEqual(['target', 'source']);
    expect(result.source.events).toBe(5);
    expect(result.link.linked).toMatchObject({ source_head_sequence: 4, source_head_hash: head.event_hash });
  });

  it('a source that fails its own verification fails the verdict, and the link still runs', async () => {
    const tampered = path.join(temp.path, 'source-tampered');
    await writeChainBundle(source, tampered, sourceSigner);
    const events = path.join(tampered, 'events.jsonl');
    await writeFile(events, (await readFile(events, 'utf8')).replace('"workload_id":"wl-1"', '"workload_id":"wl-9"'));
    const result = await verifyMigrationBundles(tampered, path.join(temp.path, 'target'), options());
    expect(result.source.ok).toBe(false);
    expect(result.target.ok).toBe(true);
    expect(result.link.ok).toBe(true);
    expect(result.ok).toBe(false);
  });

  it("the source signed with the target's key fails the source's signature", async () => {
    const result = await verifyMigrationBundles(path.join(temp.path, 'source'), path.join(temp.path, 'target'), {
      source: { jwks: targetSigner.jwks },
      target: { jwks: targetSigner.jwks },
    });
    expect(result.source.checks.find((check) => check.name === 'signature')!.ok).toBe(false);
    expect(result.ok).toBe(false);
  });

  it('an unreadable target fails, with a link that says why', async () => {
    const result = await verifyMigrationBundles(path.join(temp.path, 'source'), path.join(temp.path, 'missing'), options());
    expect(result.target.checks).toEqual([expect.objectContaining({ name: 'readable', ok: false })]);
    expect(result.source.ok).toBe(true);
    expect(result.link).toMatchObject({ ok: false, detail: expect.stringMatching(/^the target bundle yielded no events/) });
  });
});
