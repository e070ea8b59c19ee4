import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const run = promisify(execFile);
const RCLONE = '/usr/bin/rclone';
const GOVERNANCE: Record<string, string> = {
  jurisdiction: 'DE',
  'retention-ttl': 'P0D',
  classification: 'internal',
  'evidence-pointer': 'eosc://evidence/rclone',
  'data-product-id': 'dp-rclone',
  'usage-policy-snapshot-id': 'pol-rclone',
  'consent-token-ref': 'consent-rclone',
};

// rclone from Debian's package; the suite is skipped where it is not installed.
const describeWithRclone = existsSync(RCLONE) ? describe : describe.skip;

describeWithRclone('S3 wire protocol with rclone', () => {
  let env: TestStack;
  let dir: string;
  let rcloneEnv: NodeJS.ProcessEnv;
  const tenantId = uniqueId('rcl');
  const bucket = uniqueId('rcl');

  function rclone(...args: string[]) {
    return run(RCLONE, ['--config', '/dev/null', ...args], { env: rcloneEnv });
  }

  beforeAll(async () => {
    env = await startTestStack();
    dir = await mkdtemp(path.join(tmpdir(), 'ecs-rclone-'));
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
  });
  afterAll(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists, copies down and checks a tree put with the SDK; its own uploads carry no SHA-256 and are refused with the EOSC code', async () => {
    const source = path.join(dir, 'tree');
    const files: Record<string, Buffer> = {
      'top.txt': Buffer.from('top level\n'),
      'nested/middle file.txt': Buffer.from('middle\n'.repeat(500)),
      'nested/deeper/bottom.bin': Buffer.alloc(70_000, 7),
    };
    await mkdir(path.join(source, 'nested', 'deeper'), { recursive: true });
    await rclone('mkdir', `ecs:${bucket}`);
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
    for (const [key, body] of Object.entries(files)) {
      await writeFile(path.join(source, key), body);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `tree/${key}`, Body: body, Metadata: metadata }));
    }
    s3.destroy();
    const listed = await rclone('lsf', '-R', `ecs:${bucket}/tree`);
    expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'nested/',
      'nested/deeper/',
      'nested/deeper/bottom.bin',
      'nested/middle file.txt',
      'top.txt',
    ]);
    await rclone('check', '--download', source, `ecs:${bucket}/tree`);
    const back = path.join(dir, 'back');
    await rclone('copy', `ecs:${bucket}/tree`, back);
    await rclone('check', source, back);

    const headers = Object.entries(GOVERNANCE).flatMap(([name, value]) => ['--header-upload', `x-amz-meta-eosc-${name}: ${value}`]);
    const refused = await rclone('copy', '--retries', '1', source, `ecs:${bucket}/up`, ...headers).then(
      () => ({ stderr: '' }),
      (error: { stderr: string }) => error,
    );
    expect(refused.stderr).toContain('EOSC_MISSING_INTEGRITY');
  });
});
