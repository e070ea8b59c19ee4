import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';
const METADATA =
  'eosc-jurisdiction=DE,eosc-retention-ttl=P1D,eosc-classification=internal,eosc-evidence-pointer=eosc://evidence/cli,' +
  'eosc-data-product-id=dp-cli,eosc-usage-policy-snapshot-id=pol-cli,eosc-consent-token-ref=consent-cli';

// The aws CLI from Debian's awscli package; the suite is skipped where it is not installed.
const describeWithCli = existsSync(AWS) ? describe : describe.skip;

describeWithCli('S3 wire protocol with the aws CLI', () => {
  let env: TestStack;
  let dir: string;
  let cliEnv: NodeJS.ProcessEnv;
  const tenantId = uniqueId('cli');
  const bucket = uniqueId('cli');

  function aws(...args: string[]) {
    return run(AWS, ['--endpoint-url', `${env.url}/s3`, ...args], { env: cliEnv });
  }

  beforeAll(async () => {
    env = await startTestStack();
    dir = await mkdtemp(path.join(tmpdir(), 'ecs-aws-cli-'));
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    const admin = await env.token('tenant-admin', tenantId);
    const created = await env.gqlAs<{ createS3Credential: { secretAccessKey: string; s3Credential: { accessKeyId: string } } }>(
      admin,
      'mutation($i: CreateS3CredentialInput!) { createS3Credential(input: $i) { secretAccessKey s3Credential { accessKeyId } } }',
      { i: { tenantId, name: 'cli', scopes: ['tenant.read', 'storage.read', 'storage.write', 'storage.delete'] } },
    );
    const { secretAccessKey, s3Credential } = created.data!.createS3Credential;
    await writeFile(path.join(dir, 'config'), '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    cliEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: path.join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
      AWS_ACCESS_KEY_ID: s3Credential.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  });
  afterAll(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('makes a bucket, copies a file up with --metadata and down again, lists it, and removes only what retention allows', async () => {
    await aws('s3api', 'create-bucket', '--bucket', bucket, '--create-bucket-configuration', 'LocationConstraint=DE');
    const source = path.join(dir, 'report.txt');
    await writeFile(source, 'governed bytes from the aws CLI\n'.repeat(100));
    await aws('s3', 'cp', source, `s3://${bucket}/reports/report.txt`, '--metadata', METADATA);
    const listed = await aws('s3', 'ls', `s3://${bucket}/reports/`);
    expect(listed.stdout).toContain('report.txt');
    const target = path.join(dir, 'back.txt');
    await aws('s3', 'cp', `s3://${bucket}/reports/report.txt`, target);
    expect(await readFile(target, 'utf8')).toBe(await readFile(source, 'utf8'));
    const head = JSON.parse((await aws('s3api', 'head-object', '--bucket', bucket, '--key', 'reports/report.txt')).stdout) as {
      Metadata: Record<string, string>;
    };
    expect(head.Metadata).toMatchObject({ 'eosc-jurisdiction': 'DE', 'eosc-data-product-id': 'dp-cli' });
    const locked = (await aws('s3', 'rm', `s3://${bucket}/reports/report.txt`).then(
      () => ({ stderr: '' }),
      (error: { stderr: string }) => error,
    )) as { stderr: string };
    expect(locked.stderr).toContain('EOSC_OBJECT_LOCKED');
    await aws('s3', 'cp', source, `s3://${bucket}/scratch/report.txt`, '--metadata', METADATA.replace('P1D', 'P0D'));
    await aws('s3', 'rm', `s3://${bucket}/scratch/report.txt`);
    expect((await aws('s3', 'ls', `s3://${bucket}/scratch/`).catch((error: { stdout: string }) => error)).stdout).not.toContain(
      'report.txt',
    );
  });

  it('shows the EOSC code when governance metadata is missing', async () => {
    const source = path.join(dir, 'bare.txt');
    await writeFile(source, 'no metadata');
    const failure = (await aws('s3', 'cp', source, `s3://${bucket}/bare.txt`).then(
      () => ({ stderr: '' }),
      (error: { stderr: string }) => error,
    )) as { stderr: string };
    expect(failure.stderr).toContain('EOSC_MISSING_JURISDICTION');
  });
});
