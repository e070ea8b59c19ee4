import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { chainEvents } from '../support/chain-events';
import type { ChainEvent } from '../support/chain-events';
import { findExecutable, readTree, runTool, sha256Hex, writeTree } from '../support/s3-clients';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const RCLONE = findExecutable('rclone');
const GOVERNANCE: Record<string, string> = {
  jurisdiction: 'DE',
  'retention-ttl': 'P0D',
  classification: 'internal',
  'evidence-pointer': 'eosc://evidence/rclone',
  'data-product-id': 'dp-rclone',
  'usage-policy-snapshot-id': 'pol-rclone',
  'consent-token-ref': 'consent-rclone',
};

/** `--header-upload` flags sending governance values as user metadata (`x-amz-meta-eosc-*`). */
function headerFlags(values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([name, value]) => ['--header-upload', `x-amz-meta-eosc-${name}: ${value}`]);
}

const TREE: Record<string, Buffer> = {
  'top.txt': Buffer.from('top level\n'),
  'nested/middle file.txt': Buffer.from('middle\n'.repeat(500)),
  'nested/deeper/bottom.bin': randomBytes(70_000),
};

// rclone from Debian's package (or one on PATH); the suite is skipped where it is not installed.
const describeWithRclone = RCLONE ? describe : describe.skip;

describeWithRclone('S3 wire protocol with rclone', () => {
  let env: TestStack;
  let dir: string;
  let source: string;
  let rcloneEnv: NodeJS.ProcessEnv;
  const tenantId = uniqueId('rcl');
  const bucket = uniqueId('rcl');

  // Retries are rclone's, for flaky networks: a refusal is final, so one attempt each.
  function rclone(...args: string[]) {
    return runTool(RCLONE!, ['--config', '/dev/null', '--retries', '1', '--low-level-retries', '1', ...args], rcloneEnv);
  }
  async function ok(...args: string[]) {
    const result = await rclone(...args);
    if (result.code !== 0) throw new Error(`rclone ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result;
  }
  async function puts(key: string): Promise<ChainEvent[]> {
    return (await chainEvents(env, tenantId)).filter(
      (event) => event.eventType === 'object.put' && event.details.bucket === bucket && event.details.object_key === key,
    );
  }

  beforeAll(async () => {
    env = await startTestStack();
    dir = await mkdtemp(path.join(tmpdir(), 'ecs-rclone-'));
    source = path.join(dir, 'tree');
    await writeTree(source, TREE);
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    const admin = await env.token('tenant-admin', tenantId);
    const created = await env.gqlAs<{ createS3Credential: { secretAccessKey: string; s3Credential: { accessKeyId: string } } }>(
      admin,
      'mutation($i: CreateS3CredentialInput!) { createS3Credential(input: $i) { secretAccessKey s3Credential { accessKeyId } } }',
      { i: { tenantId, name: 'rclone', scopes: ['tenant.read', 'storage.read', 'storage.write', 'storage.delete'] } },
    );
    const { secretAccessKey, s3Credential } = created.data!.createS3Credential;
    rcloneEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      RCLONE_CONFIG_ECS_TYPE: 's3',
      RCLONE_CONFIG_ECS_PROVIDER: 'Other',
      RCLONE_CONFIG_ECS_ACCESS_KEY_ID: s3Credential.accessKeyId,
      RCLONE_CONFIG_ECS_SECRET_ACCESS_KEY: secretAccessKey,
      RCLONE_CONFIG_ECS_REGION: 'us-east-1',
      RCLONE_CONFIG_ECS_ENDPOINT: `${env.url}/s3`,
      RCLONE_CONFIG_ECS_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_ECS_LOCATION_CONSTRAINT: 'DE',
      RCLONE_CONFIG_ECS_LIST_VERSION: '2',
    };
    await ok('mkdir', `ecs:${bucket}`);
  });
  afterAll(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists, checks and copies down a tree put with the SDK', async () => {
    const s3 = new S3Client({
      endpoint: `${env.url}/s3`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: {
        accessKeyId: rcloneEnv.RCLONE_CONFIG_ECS_ACCESS_KEY_ID!,
        secretAccessKey: rcloneEnv.RCLONE_CONFIG_ECS_SECRET_ACCESS_KEY!,
      },
    });
    const metadata = Object.fromEntries(Object.entries(GOVERNANCE).map(([name, value]) => [`eosc-${name}`, value]));
    for (const [key, body] of Object.entries(TREE)) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `sdk/${key}`, Body: body, Metadata: metadata }));
    }
    s3.destroy();
    const listed = await ok('lsf', '-R', `ecs:${bucket}/sdk`);
    expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'nested/',
      'nested/deeper/',
      'nested/deeper/bottom.bin',
      'nested/middle file.txt',
      'top.txt',
    ]);
    // --download compares contents: the ETag is not (or was not always) an MD5 rclone can use.
    await ok('check', '--download', source, `ecs:${bucket}/sdk`);
    const back = path.join(dir, 'sdk-back');
    await ok('copy', `ecs:${bucket}/sdk`, back);
    const copied = await readTree(back);
    expect(Object.keys(copied).sort()).toEqual(Object.keys(TREE).sort());
    for (const [name, body] of Object.entries(TREE)) expect(copied[name]!.equals(body)).toBe(true);
    // One byte changed, the size the same: only the downloaded contents tell.
    const altered = path.join(dir, 'tree-altered');
    await writeTree(altered, { ...TREE, 'top.txt': Buffer.from('top levex\n') });
    const changed = await rclone('check', '--download', altered, `ecs:${bucket}/sdk`);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('1 differences found');
  });

  it('refuses `rclone copy` of a tree with the default upload cutoff: a single PUT sends UNSIGNED-PAYLOAD and only Content-MD5, no SHA-256', async () => {
    const refused = await rclone('copy', '--dump', 'headers', source, `ecs:${bucket}/copied`, ...headerFlags(GOVERNANCE));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('EOSC_MISSING_INTEGRITY: x-eosc-integrity is required');
    // The dumped request: its headers up to the next log line.
    const upload = /PUT \/s3\/\S*\/copied\/top\.txt HTTP\/1\.1\r?\n([\s\S]*?)\d{4}\/\d\d\/\d\d /.exec(refused.stderr)?.[1] ?? '';
    expect(upload).toContain('X-Amz-Content-Sha256: UNSIGNED-PAYLOAD');
    expect(upload).toMatch(/Content-Md5: [A-Za-z0-9+/]{22}==/);
    expect(upload).toContain('X-Amz-Meta-Eosc-Jurisdiction: DE');
    expect(upload).not.toMatch(/x-amz-checksum-|X-Amz-Meta-Eosc-Integrity/i);
    expect((await puts('copied/top.txt')).map((event) => [event.outcome, event.details.header])).toEqual([['refused', 'x-eosc-integrity']]);
    expect((await rclone('lsf', `ecs:${bucket}/copied`)).stdout).toBe('');
  });

  it('copies a tree with `--s3-upload-cutoff 0`: each file goes up in parts whose signed payload hashes vouch for the bytes; check and copy back', async () => {
    const copied = await ok(
      'copy',
      '--dump',
      'headers',
      '--s3-upload-cutoff',
      '0',
      source,
      `ecs:${bucket}/parts`,
      ...headerFlags(GOVERNANCE),
    );
    // The dumped part uploads: signed with the SHA-256 of their payload, not UNSIGNED-PAYLOAD.
    const partUploads = [
      ...copied.stderr.matchAll(/PUT \/s3\/\S*\/parts\/\S*\?partNumber=\S* HTTP\/1\.1\r?\n([\s\S]*?)\d{4}\/\d\d\/\d\d /g),
    ];
    expect(partUploads).toHaveLength(Object.keys(TREE).length);
    for (const [, headers] of partUploads) expect(headers).toMatch(/X-Amz-Content-Sha256: [0-9a-f]{64}\r?\n/);
    await ok('check', '--download', source, `ecs:${bucket}/parts`);
    // rclone keeps each file's MD5 and modification time as user metadata (x-amz-meta-md5chksum,
    // x-amz-meta-mtime), which the objects keep: a plain check compares hashes, and a second sync
    // finds nothing to send.
    const checked = await ok('check', source, `ecs:${bucket}/parts`);
    expect(checked.stderr).toContain('0 differences found');
    expect(checked.stderr).not.toContain('could not be checked');
    const again = await ok('sync', '-v', '--s3-upload-cutoff', '0', source, `ecs:${bucket}/parts`, ...headerFlags(GOVERNANCE));
    expect(again.stderr).not.toContain('Copied');
    expect(again.stderr).toContain('There was nothing to transfer');
    const back = path.join(dir, 'parts-back');
    await ok('copy', `ecs:${bucket}/parts`, back);
    const read = await readTree(back);
    expect(Object.keys(read).sort()).toEqual(Object.keys(TREE).sort());
    for (const [name, body] of Object.entries(TREE)) {
      expect(read[name]!.equals(body)).toBe(true);
      const events = await puts(`parts/${name}`);
      expect(events.map((event) => [event.outcome, event.details.origin, event.details.integrity, event.details.integrity_source])).toEqual(
        [['accepted', 'multipart', `sha256:${sha256Hex(body)}`, 'the SHA-256 declared by each part']],
      );
    }
  });

  it('uploads a tree file by file with the SHA-256 declared, then checks and copies it back', async () => {
    // The integrity as a header (`--header-upload`), or as metadata (`-M --metadata-set`, which
    // rclone 1.60 ignores without -M). --s3-no-head: rclone's HEAD ?versionId= after an upload is
    // refused in an unversioned bucket (403), failing the copy though the object was stored.
    for (const [name, body] of Object.entries(TREE)) {
      const integrity = `sha256:${sha256Hex(body)}`;
      const declared =
        name === 'top.txt'
          ? ['-M', '--metadata-set', `eosc-integrity=${integrity}`]
          : ['--header-upload', `x-amz-meta-eosc-integrity: ${integrity}`];
      await ok('copyto', '--s3-no-head', path.join(source, name), `ecs:${bucket}/up/${name}`, ...headerFlags(GOVERNANCE), ...declared);
    }
    await ok('check', '--download', source, `ecs:${bucket}/up`);
    const back = path.join(dir, 'up-back');
    await ok('copy', `ecs:${bucket}/up`, back);
    const copied = await readTree(back);
    expect(Object.keys(copied).sort()).toEqual(Object.keys(TREE).sort());
    for (const [name, body] of Object.entries(TREE)) {
      expect(copied[name]!.equals(body)).toBe(true);
      const events = await puts(`up/${name}`);
      expect(events.map((event) => [event.outcome, event.details.integrity, event.details.jurisdiction])).toEqual([
        ['accepted', `sha256:${sha256Hex(body)}`, 'DE'],
      ]);
    }
    // A declared SHA-256 the bytes do not have is refused.
    const wrong = await rclone(
      'copyto',
      '--s3-no-head',
      path.join(source, 'top.txt'),
      `ecs:${bucket}/up/wrong.txt`,
      ...headerFlags({ ...GOVERNANCE, integrity: `sha256:${sha256Hex('other bytes')}` }),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('EOSC_INTEGRITY_MISMATCH: the content hashes to');
  });

  it('shows the EOSC code for a missing jurisdiction and for a delete under retention, and SignatureDoesNotMatch for a wrong secret', async () => {
    const body = TREE['top.txt']!;
    const declared: Record<string, string> = { ...GOVERNANCE, integrity: `sha256:${sha256Hex(body)}` };
    const withoutJurisdiction = Object.fromEntries(Object.entries(declared).filter(([name]) => name !== 'jurisdiction'));
    const nowhere = await rclone(
      'copyto',
      '--s3-no-head',
      path.join(source, 'top.txt'),
      `ecs:${bucket}/nowhere.txt`,
      ...headerFlags(withoutJurisdiction),
    );
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain('EOSC_MISSING_JURISDICTION: x-eosc-jurisdiction is required');
    expect((await puts('nowhere.txt')).map((event) => [event.outcome, event.details.header])).toEqual([['refused', 'x-eosc-jurisdiction']]);

    await ok(
      'copyto',
      '--s3-no-head',
      path.join(source, 'top.txt'),
      `ecs:${bucket}/kept.txt`,
      ...headerFlags({ ...declared, 'retention-ttl': 'P1D' }),
    );
    const locked = await rclone('deletefile', `ecs:${bucket}/kept.txt`);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('EOSC_OBJECT_LOCKED');
    expect((await ok('lsf', `ecs:${bucket}`)).stdout).toContain('kept.txt');
    const deletes = (await chainEvents(env, tenantId)).filter(
      (event) => event.eventType === 'object.delete' && event.details.object_key === 'kept.txt',
    );
    expect(deletes.map((event) => event.outcome)).toEqual(['refused']);

    const wrong = await runTool(RCLONE!, ['--config', '/dev/null', '--retries', '1', 'lsf', `ecs:${bucket}`], {
      ...rcloneEnv,
      RCLONE_CONFIG_ECS_SECRET_ACCESS_KEY: 'not-the-secret-at-all',
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('SignatureDoesNotMatch');
  });
});
