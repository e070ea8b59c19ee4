import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chainEvents } from '../support/chain-events';
import type { ChainEvent } from '../support/chain-events';
import { findExecutable, readTree, runTool, sha256Hex, startTlsFront, writeTree } from '../support/s3-clients';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const AWS = findExecutable('aws');
const CURL = findExecutable('curl');
const GOVERNANCE =
  'eosc-jurisdiction=DE,eosc-classification=internal,eosc-evidence-pointer=eosc://evidence/cli,' +
  'eosc-data-product-id=dp-cli,eosc-usage-policy-snapshot-id=pol-cli,eosc-consent-token-ref=consent-cli';
const METADATA = `${GOVERNANCE},eosc-retention-ttl=P1D`;
const UNRETAINED = `${GOVERNANCE},eosc-retention-ttl=P0D`;
// The profile docs/s3.md recommends: path-style addressing, SigV4 presigned URLs (aws CLI v1
// presigns with SigV2 otherwise), no flexible checksum unless required and the payload signed,
// so that every upload carries the SHA-256 of its body in the signed x-amz-content-sha256, over
// HTTPS too (where the CLI otherwise sends an unsigned body with a CRC32 trailer).
const CONFIG =
  '[default]\nregion = us-east-1\nrequest_checksum_calculation = when_required\n' +
  's3 =\n  addressing_style = path\n  signature_version = s3v4\n  payload_signing_enabled = true\n';
// The CLI's own defaults, path-style only.
const DEFAULT_CONFIG = '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n';

// The aws CLI (Debian's awscli, or one on PATH); the suite is skipped where it is not installed.
const describeWithCli = AWS && CURL ? describe : describe.skip;

describeWithCli('S3 wire protocol with the aws CLI', () => {
  let env: TestStack;
  let dir: string;
  let cliEnv: NodeJS.ProcessEnv;
  const tenantId = uniqueId('cli');
  const bucket = uniqueId('cli');

  function aws(...args: string[]) {
    return runTool(AWS!, ['--endpoint-url', `${env.url}/s3`, ...args], cliEnv);
  }
  async function ok(...args: string[]) {
    const result = await aws(...args);
    if (result.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result;
  }
  async function puts(key: string): Promise<ChainEvent[]> {
    return (await chainEvents(env, tenantId)).filter(
      (event) => event.eventType === 'object.put' && event.details.bucket === bucket && event.details.object_key === key,
    );
  }

  beforeAll(async () => {
    env = await startTestStack();
    dir = await mkdtemp(path.join(tmpdir(), 'ecs-aws-cli-'));
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    const admin = await env.token('tenant-admin', tenantId);
    const created = await env.gqlAs<{ createS3Credential: { secretAccessKey: string; s3Credential: { accessKeyId: string } } }>(
      admin,
      'mutation($i: CreateS3CredentialInput!) { createS3Credential(input: $i) { secretAccessKey s3Credential { accessKeyId } } }',
      {
        i: {
          tenantId,
          name: 'cli',
          scopes: ['tenant.read', 'storage.read', 'storage.write', 'storage.delete', 'storage.govern'],
        },
      },
    );
    const { secretAccessKey, s3Credential } = created.data!.createS3Credential;
    await writeFile(path.join(dir, 'config'), CONFIG);
    await writeFile(path.join(dir, 'default-config'), DEFAULT_CONFIG);
    cliEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: path.join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
      AWS_ACCESS_KEY_ID: s3Credential.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    await ok('s3api', 'create-bucket', '--bucket', bucket, '--create-bucket-configuration', 'LocationConstraint=DE');
  });
  afterAll(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("makes and removes a bucket with `aws s3 mb` / `aws s3 rb`, placed in the tenant's jurisdiction", async () => {
    const made = uniqueId('mb');
    await ok('s3', 'mb', `s3://${made}`);
    expect((await ok('s3', 'ls')).stdout).toContain(made);
    const placed = await env.gql<{ bucket: { jurisdiction: string } | null }>('query($n: ID!) { bucket(name: $n) { jurisdiction } }', {
      n: made,
    });
    expect(placed.data?.bucket?.jurisdiction).toBe('DE');
    await ok('s3', 'rb', `s3://${made}`);
    expect((await ok('s3', 'ls')).stdout).not.toContain(made);
  });

  it('copies a file up with --metadata and down again, lists it, and removes only what retention allows', async () => {
    const source = path.join(dir, 'report.txt');
    await writeFile(source, 'governed bytes from the aws CLI\n'.repeat(100));
    await ok('s3', 'cp', source, `s3://${bucket}/reports/report.txt`, '--metadata', METADATA);
    const listed = await ok('s3', 'ls', `s3://${bucket}/reports/`);
    expect(listed.stdout).toContain('report.txt');
    const target = path.join(dir, 'back.txt');
    await ok('s3', 'cp', `s3://${bucket}/reports/report.txt`, target);
    expect(await readFile(target, 'utf8')).toBe(await readFile(source, 'utf8'));
    const head = JSON.parse((await ok('s3api', 'head-object', '--bucket', bucket, '--key', 'reports/report.txt')).stdout) as {
      Metadata: Record<string, string>;
    };
    expect(head.Metadata).toMatchObject({
      'eosc-jurisdiction': 'DE',
      'eosc-data-product-id': 'dp-cli',
      'eosc-integrity': `sha256:${sha256Hex(await readFile(source))}`,
    });
    // Retention in force: `aws s3 rm` fails with exit code 1 and the EOSC code.
    const locked = await aws('s3', 'rm', `s3://${bucket}/reports/report.txt`);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('(EOSC_OBJECT_LOCKED) when calling the DeleteObject operation');
    await ok('s3', 'cp', source, `s3://${bucket}/scratch/report.txt`, '--metadata', UNRETAINED);
    await ok('s3', 'rm', `s3://${bucket}/scratch/report.txt`);
    expect((await aws('s3', 'ls', `s3://${bucket}/scratch/`)).stdout).not.toContain('report.txt');
  });

  it('copies a file above the multipart threshold with no integrity declared: each signed part vouches for its bytes', async () => {
    const source = path.join(dir, 'large.bin');
    const bytes = randomBytes(9 * 1024 * 1024);
    await writeFile(source, bytes);
    const key = 'reports/large.bin';
    await ok('s3', 'cp', source, `s3://${bucket}/${key}`, '--metadata', METADATA);
    const head = JSON.parse((await ok('s3api', 'head-object', '--bucket', bucket, '--key', key)).stdout) as {
      ETag: string;
      Metadata: Record<string, string>;
    };
    // The CLI's 8 MiB threshold and part size: two parts, and S3's multipart ETag.
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(head.Metadata['eosc-integrity']).toBe(`sha256:${sha256Hex(bytes)}`);
    expect((await puts(key)).map((event) => [event.outcome, event.details.origin, event.details.integrity_source])).toEqual([
      ['accepted', 'multipart', 'the SHA-256 declared by each part'],
    ]);
    const target = path.join(dir, 'large-back.bin');
    await ok('s3', 'cp', `s3://${bucket}/${key}`, target);
    expect(sha256Hex(await readFile(target))).toBe(sha256Hex(bytes));
  });

  it('syncs a tree up with --metadata and down again, then uploads only the file that changed, each put in the chain', async () => {
    const source = path.join(dir, 'sync-up');
    const files: Record<string, Buffer> = {
      'top.txt': Buffer.from('top of the tree\n'),
      'docs/notes file.md': Buffer.from('# notes\n'.repeat(300)),
      'docs/deep/data.bin': randomBytes(70_000),
    };
    await writeTree(source, files);
    const first = await ok('s3', 'sync', source, `s3://${bucket}/sync`, '--metadata', UNRETAINED);
    expect(first.stdout.match(/^upload: /gm)).toHaveLength(3);

    const down = path.join(dir, 'sync-down');
    await ok('s3', 'sync', `s3://${bucket}/sync`, down);
    const back = await readTree(down);
    expect(Object.keys(back).sort()).toEqual(Object.keys(files).sort());
    for (const [name, body] of Object.entries(files)) expect(back[name]!.equals(body)).toBe(true);

    const changed = Buffer.from('# notes, revised\n'.repeat(310));
    await writeFile(path.join(source, 'docs/notes file.md'), changed);
    const second = await ok('s3', 'sync', source, `s3://${bucket}/sync`, '--metadata', UNRETAINED);
    const uploads = second.stdout.split(/\r|\n/).filter((line) => line.startsWith('upload: '));
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toContain(`s3://${bucket}/sync/docs/notes file.md`);
    const fetched = path.join(dir, 'notes-again.md');
    await ok('s3', 'cp', `s3://${bucket}/sync/docs/notes file.md`, fetched);
    expect((await readFile(fetched)).equals(changed)).toBe(true);

    for (const [name, body] of Object.entries(files)) {
      const events = await puts(`sync/${name}`);
      const versions = name === 'docs/notes file.md' ? [body, changed] : [body];
      expect(events.map((event) => [event.outcome, event.details.integrity])).toEqual(
        versions.map((version) => ['accepted', `sha256:${sha256Hex(version)}`]),
      );
    }
  });

  it('places a legal hold, refuses `aws s3 rm` while it is on, and releases it, with the evidence', async () => {
    const key = 'held/evidence.txt';
    const source = path.join(dir, 'held.txt');
    await writeFile(source, 'held by the CLI');
    await ok('s3', 'cp', source, `s3://${bucket}/${key}`, '--metadata', UNRETAINED);
    await ok('s3api', 'put-object-legal-hold', '--bucket', bucket, '--key', key, '--legal-hold', 'Status=ON');
    const hold = JSON.parse((await ok('s3api', 'get-object-legal-hold', '--bucket', bucket, '--key', key)).stdout);
    expect(hold).toEqual({ LegalHold: { Status: 'ON' } });

    const refused = await aws('s3', 'rm', `s3://${bucket}/${key}`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`delete failed: s3://${bucket}/${key}`);
    expect(refused.stderr).toContain('(EOSC_OBJECT_LOCKED) when calling the DeleteObject operation');
    const refusedLowLevel = await aws('s3api', 'delete-object', '--bucket', bucket, '--key', key);
    // A service error: 255 from aws CLI v1, 254 from v2.
    expect([254, 255]).toContain(refusedLowLevel.code);
    expect(refusedLowLevel.stderr).toContain('EOSC_OBJECT_LOCKED');
    expect((await ok('s3', 'ls', `s3://${bucket}/held/`)).stdout).toContain('evidence.txt');

    await ok('s3api', 'put-object-legal-hold', '--bucket', bucket, '--key', key, '--legal-hold', 'Status=OFF');
    const removed = await ok('s3', 'rm', `s3://${bucket}/${key}`);
    expect(removed.stdout).toContain(`delete: s3://${bucket}/${key}`);

    const chain = (await chainEvents(env, tenantId)).filter((event) => JSON.stringify(event.details).includes(key));
    expect(chain.filter((event) => event.eventType === 'object.legal_hold').map((event) => [event.outcome, event.details.action])).toEqual([
      ['accepted', 'object.legal_hold.on'],
      ['accepted', 'object.legal_hold.off'],
    ]);
    const deletes = chain.filter((event) => event.eventType === 'object.delete');
    expect(deletes.map((event) => event.outcome)).toEqual(['refused', 'refused', 'accepted']);
    expect(deletes[0]!.details).toMatchObject({ legal_hold: true });
  });

  it('presigns a GET that curl fetches, and curl is refused an expired or tampered URL', async () => {
    const key = 'shared/report.bin';
    const body = randomBytes(20_000);
    await writeFile(path.join(dir, 'shared.bin'), body);
    await ok('s3', 'cp', path.join(dir, 'shared.bin'), `s3://${bucket}/${key}`, '--metadata', UNRETAINED);
    // Presigned first, fetched last: it has expired by then.
    const expiring = (await ok('s3', 'presign', `s3://${bucket}/${key}`, '--expires-in', '1')).stdout.trim();
    const expiresAt = Date.now() + 1000;
    const url = (await ok('s3', 'presign', `s3://${bucket}/${key}`, '--expires-in', '300')).stdout.trim();
    expect(url).toContain('X-Amz-Algorithm=AWS4-HMAC-SHA256');

    async function curl(target: string, output: string) {
      const result = await runTool(CURL!, ['--silent', '--show-error', '--output', output, '--write-out', '%{http_code}', target], {
        PATH: process.env.PATH,
      });
      expect(result.code).toBe(0);
      return Number(result.stdout);
    }
    const fetched = path.join(dir, 'fetched.bin');
    expect(await curl(url, fetched)).toBe(200);
    expect((await readFile(fetched)).equals(body)).toBe(true);

    const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (_match, first: string) => `X-Amz-Signature=${first === '0' ? '1' : '0'}`);
    expect(tampered).not.toBe(url);
    const refusal = path.join(dir, 'refusal.xml');
    expect(await curl(tampered, refusal)).toBe(403);
    expect(await readFile(refusal, 'utf8')).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await curl(url.replace('report.bin', 'other.bin'), refusal)).toBe(403);
    expect(await readFile(refusal, 'utf8')).toContain('<Code>SignatureDoesNotMatch</Code>');

    // X-Amz-Expires counts whole seconds from X-Amz-Date: past the second after it, it is over.
    const wait = expiresAt + 1100 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    expect(await curl(expiring, refusal)).toBe(403);
    expect(await readFile(refusal, 'utf8')).toContain('<Code>AccessDenied</Code>');
  });

  it('over HTTPS: the default profile sends an unsigned body (CRC32 trailer) and is refused, with a SHA-256 trailer it is accepted, the recommended profile signs it', async () => {
    const front = await startTlsFront(env.url, path.join(dir, 'pki'));
    try {
      const source = path.join(dir, 'tls.txt');
      const body = Buffer.from('sent over TLS\n'.repeat(50));
      await writeFile(source, body);
      const tls = { ...cliEnv, AWS_CA_BUNDLE: front.caFile };
      const endpoint = ['--endpoint-url', `${front.url}/s3`];
      const defaults = await runTool(AWS!, [...endpoint, 's3', 'cp', source, `s3://${bucket}/tls/default.txt`, '--metadata', UNRETAINED], {
        ...tls,
        AWS_CONFIG_FILE: path.join(dir, 'default-config'),
      });
      expect(defaults.code).toBe(1);
      expect(defaults.stderr).toContain('(EOSC_MISSING_INTEGRITY) when calling the PutObject operation');

      const signed = await runTool(AWS!, [...endpoint, 's3', 'cp', source, `s3://${bucket}/tls/signed.txt`, '--metadata', UNRETAINED], tls);
      expect([signed.code, signed.stderr]).toEqual([0, '']);
      const listed = await runTool(AWS!, [...endpoint, 's3', 'ls', `s3://${bucket}/tls/`], tls);
      expect(listed.stdout).toContain('signed.txt');
      expect(listed.stdout).not.toContain('default.txt');
      expect((await puts('tls/signed.txt')).map((event) => [event.outcome, event.details.integrity])).toEqual([
        ['accepted', `sha256:${sha256Hex(body)}`],
      ]);
      expect((await puts('tls/default.txt')).map((event) => [event.outcome, event.details.header])).toEqual([
        ['refused', 'x-eosc-integrity'],
      ]);

      // The default profile asked for a SHA-256 checksum: it goes in the body's trailer, which the
      // gateway checks before the body ends, so the data plane records the SHA-256 it computed.
      const trailer = await runTool(
        AWS!,
        [...endpoint, 's3', 'cp', source, `s3://${bucket}/tls/trailer.txt`, '--metadata', UNRETAINED, '--checksum-algorithm', 'SHA256'],
        { ...tls, AWS_CONFIG_FILE: path.join(dir, 'default-config') },
      );
      expect([trailer.code, trailer.stderr]).toEqual([0, '']);
      expect(
        (await puts('tls/trailer.txt')).map((event) => [event.outcome, event.details.integrity, event.details.integrity_source]),
      ).toEqual([['accepted', `sha256:${sha256Hex(body)}`, 'x-amz-checksum-sha256 trailer']]);
    } finally {
      await front.close();
    }
  });

  it('shows the EOSC code when governance metadata is missing, and SignatureDoesNotMatch for a wrong secret', async () => {
    const source = path.join(dir, 'bare.txt');
    await writeFile(source, 'no metadata');
    const failure = await aws('s3', 'cp', source, `s3://${bucket}/bare.txt`, '--metadata', 'eosc-retention-ttl=P0D');
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('(EOSC_MISSING_JURISDICTION) when calling the PutObject operation');
    expect((await puts('bare.txt')).map((event) => [event.outcome, event.details.header])).toEqual([['refused', 'x-eosc-jurisdiction']]);

    const wrong = await runTool(AWS!, ['--endpoint-url', `${env.url}/s3`, 's3', 'ls'], {
      ...cliEnv,
      AWS_SECRET_ACCESS_KEY: 'not-the-secret-at-all',
    });
    expect([254, 255]).toContain(wrong.code);
    expect(wrong.stderr).toContain('(SignatureDoesNotMatch) when calling the ListBuckets operation');
  });
});
