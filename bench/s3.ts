// The S3 endpoint next to the JSON storage route: GET and PUT of 1 KB and 10 MB objects with
// `@aws-sdk/client-s3` (SigV4, path style, `/s3` on the gateway port) and with plain HTTP on
// `/v1/storage/{bucket}/objects/{key}`, against one server process (`npm start`, PGlite).
// Each case runs `--connections` loops for `--seconds`; 1 KB reports requests per second,
// 10 MB megabytes per second, and the S3 / JSON ratio of each.
//
//   npx tsx bench/s3.ts [--seconds=10] [--connections=4]
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Agent, request } from 'undici';
import { devIssuerFile, loadDevIssuer } from '../lib/auth/dev-issuer';
import { adminHeaders, postGraphQL, startServerProcess } from '../testkit/spawn-server';
import type { StartedServer } from '../testkit/spawn-server';
import { makeTempDir } from '../testkit/temp-dir';
import { positiveIntegerOption } from './support/options';
import { fmt, table } from './support/report';
import { registerCleanup, runMain } from './support/run-main';

const TENANT = 'bench-s3';
const BUCKET = 'bench-s3-bucket';
const GOVERNANCE = {
  jurisdiction: 'DE',
  'retention-ttl': 'P0D',
  classification: 'internal',
  'evidence-pointer': 'eosc://evidence/bench',
  'data-product-id': 'dp-bench',
  'usage-policy-snapshot-id': 'pol-bench',
  'consent-token-ref': 'consent-bench',
};
const CREATE_CREDENTIAL = `mutation($i: CreateS3CredentialInput!) {
  createS3Credential(input: $i) { secretAccessKey s3Credential { accessKeyId } }
}`;

interface Client {
  put(key: string, body: Buffer, sha256: string): Promise<void>;
  get(key: string): Promise<number>;
}

/** Runs `connections` loops of `operation` for `seconds`; the operations done and the bytes moved. */
async function loop(seconds: number, connections: number, operation: (worker: number) => Promise<number>) {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      while (performance.now() < deadline) {
        bytes += await operation(worker);
        count += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: count / elapsed, mbPerSecond: bytes / 1024 / 1024 / elapsed };
}

function jsonClient(base: string, auth: Record<string, string>, dispatcher: Agent): Client {
  const url = (key: string) => `${base}/v1/storage/${BUCKET}/objects/${key}`;
  return {
    async put(key, body, sha256) {
      const headers: Record<string, string> = {
        ...auth,
        'content-type': 'application/octet-stream',
        'x-eosc-integrity': `sha256:${sha256}`,
      };
      for (const [name, value] of Object.entries(GOVERNANCE)) headers[`x-eosc-${name}`] = value;
      const response = await request(url(key), { method: 'PUT', headers, body, dispatcher });
      const text = await response.body.text();
      if (response.statusCode !== 201) throw new Error(`JSON PUT ${key}: ${response.statusCode} ${text}`);
    },
    async get(key) {
      const response = await request(url(key), { headers: auth, dispatcher });
      let bytes = 0;
      for await (const part of response.body) bytes += (part as Buffer).length;
      if (response.statusCode !== 200) throw new Error(`JSON GET ${key}: ${response.statusCode}`);
      return bytes;
    },
  };
}

function s3Client(s3: S3Client): Client {
  const metadata = Object.fromEntries(Object.entries(GOVERNANCE).map(([name, value]) => [`eosc-${name}`, value]));
  return {
    async put(key, body, sha256) {
      await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: { ...metadata, 'eosc-integrity': `sha256:${sha256}` } }),
      );
    },
    async get(key) {
      const answer = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      let bytes = 0;
      for await (const part of answer.Body as AsyncIterable<Uint8Array>) bytes += part.length;
      return bytes;
    },
  };
}

async function setUp(
  base: string,
  dataDir: string,
): Promise<{ auth: Record<string, string>; accessKeyId: string; secretAccessKey: string }> {
  const auth = await adminHeaders(dataDir);
  const json = { ...auth, 'content-type': 'application/json' };
  const tenant = await request(`${base}/v1/tenants`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ id: TENANT, authority_binding: 'auth-dev-001', jurisdiction: 'DE', policy_baseline: 'ecs-baseline-v1' }),
  });
  if (tenant.statusCode !== 201) throw new Error(`tenant not created: ${tenant.statusCode} ${await tenant.body.text()}`);
  await tenant.body.dump();
  const bucket = await request(`${base}/v1/storage/${BUCKET}`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ tenant_id: TENANT, jurisdiction: 'DE' }),
  });
  if (bucket.statusCode !== 201) throw new Error(`bucket not created: ${bucket.statusCode} ${await bucket.body.text()}`);
  await bucket.body.dump();
  const issuer = await loadDevIssuer(devIssuerFile(dataDir));
  const tenantAdmin = await issuer.mint({
    subject: 'bench-admin',
    roles: ['tenant-admin'],
    tenantId: TENANT,
    audience: 'ecs-gateway',
    ttlSeconds: 3600,
  });
  const created = await postGraphQL<{ createS3Credential: { secretAccessKey: string; s3Credential: { accessKeyId: string } } }>(
    base,
    CREATE_CREDENTIAL,
    { i: { tenantId: TENANT, name: 'bench', scopes: ['tenant.read', 'storage.read', 'storage.write'] } },
    { authorization: `Bearer ${tenantAdmin}` },
  );
  const credential = created.body.data?.createS3Credential;
  if (!credential) throw new Error(`S3 credential not created: ${JSON.stringify(created.body.errors)}`);
  return { auth, accessKeyId: credential.s3Credential.accessKeyId, secretAccessKey: credential.secretAccessKey };
}

runMain(async () => {
  const seconds = positiveIntegerOption('seconds', 10);
  const connections = positiveIntegerOption('connections', 4);
  const dir = await makeTempDir('ecs-bench-s3-');
  let server: StartedServer | undefined;
  const dispatcher = new Agent({ connections });
  let s3: S3Client | undefined;
  registerCleanup(async () => {
    s3?.destroy();
    await dispatcher.close();
    await server?.kill();
    await dir.remove();
  });
  server = await startServerProcess({
    env: { DATA_DIR: dir.path, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000' },
  });
  const base = server.origin;
  const { auth, accessKeyId, secretAccessKey } = await setUp(base, dir.path);
  s3 = new S3Client({
    endpoint: `${base}/s3`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  const clients: Record<'JSON' | 'S3', Client> = { JSON: jsonClient(base, auth, dispatcher), S3: s3Client(s3) };
  const sizes = [
    { label: '1 KB', bytes: 1024, unit: 'req/s' as const },
    { label: '10 MB', bytes: 10 * 1024 * 1024, unit: 'MB/s' as const },
  ];
  const rows: string[][] = [];
  for (const size of sizes) {
    const body = randomBytes(size.bytes);
    const sha256 = createHash('sha256').update(body).digest('hex');
    for (const operation of ['PUT', 'GET'] as const) {
      const results: Record<string, number> = {};
      for (const [name, client] of Object.entries(clients)) {
        const key = (worker: number) => `${name.toLowerCase()}-${size.bytes}-${worker}`;
        for (let worker = 0; worker < connections; worker += 1) await client.put(key(worker), body, sha256);
        const run =
          operation === 'PUT'
            ? await loop(seconds, connections, async (worker) => {
                await client.put(key(worker), body, sha256);
                return size.bytes;
              })
            : await loop(seconds, connections, (worker) => client.get(key(worker)));
        results[name] = size.unit === 'req/s' ? run.perSecond : run.mbPerSecond;
      }
      rows.push([
        `${operation} ${size.label}`,
        `${fmt(results.JSON!, 1)} ${size.unit}`,
        `${fmt(results.S3!, 1)} ${size.unit}`,
        fmt(results.S3! / results.JSON!, 2),
      ]);
    }
  }
  console.log(
    `S3 endpoint (@aws-sdk/client-s3) next to the JSON route, ${connections} connections, ${seconds} s per case, one server process (npm start, PGlite):`,
  );
  console.log(table(['case', 'JSON /v1/storage', 'S3 /s3', 'S3 / JSON'], rows));
  await server.stop('SIGTERM');
  server = undefined;
});
