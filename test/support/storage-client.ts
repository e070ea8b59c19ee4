import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { uniqueId } from './test-stack';
import type { TestStack } from './test-stack';

export { governance, sha256 } from '../../testkit/governance';

export const CREATE_BUCKET = `mutation($input: CreateBucketInput!) { createBucket(input: $input) { name versioning lockMode defaultRetention } }`;

export interface StorageResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body parsed as JSON ({} when empty or not JSON). */
  json: Record<string, unknown>;
}

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

/** REST calls to `/v1/storage/{bucket}/objects/...` of a running stack, as one caller. */
export function storageClient(env: TestStack, token: string) {
  const objectUrl = (bucket: string, key: string, query = ''): string => `${env.url}/v1/storage/${bucket}/objects/${key}${query}`;

  async function call(
    method: Method,
    url: string,
    options: { body?: Buffer | Readable | string; headers?: Record<string, string>; token?: string } = {},
  ): Promise<StorageResponse> {
    const response = await request(url, {
      method,
      headers: { authorization: `Bearer ${options.token ?? token}`, ...options.headers },
      body: options.body,
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    let json: Record<string, unknown> = {};
    try {
      json = body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {};
    } catch {
      json = {};
    }
    return { status: response.statusCode, headers: response.headers, body, json };
  }

  return {
    objectUrl,
    call,
    put: (bucket: string, key: string, body: Buffer | Readable, headers: Record<string, string>, as?: string) =>
      call('PUT', objectUrl(bucket, key), { body, headers, token: as }),
    get: (
      bucket: string,
      key: string,
      options: { token?: string; method?: Method; query?: string; headers?: Record<string, string>; body?: string } = {},
    ) =>
      call(options.method ?? 'GET', objectUrl(bucket, key, options.query ?? ''), {
        token: options.token,
        headers: options.headers,
        body: options.body,
      }),
    /** JSON control request (legal hold, retention, multipart completion). */
    control: (method: Method, bucket: string, key: string, query: string, body: unknown, as?: string) =>
      call(method, objectUrl(bucket, key, query), {
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        token: as,
      }),
    async createBucket(owner: string, overrides: Record<string, unknown> = {}): Promise<string> {
      const name = uniqueId('b');
      const result = await env.gql(CREATE_BUCKET, { input: { name, tenantId: owner, jurisdiction: 'DE', ...overrides } });
      if (result.errors) throw new Error(`createBucket failed: ${JSON.stringify(result.errors)}`);
      return name;
    },
  };
}

/** Names of the blob files under the stack's data directory. */
export function blobFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'blobs', 'sha256');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

/** Files left in the blob store's temporary directory. */
export function temporaryFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'blobs', 'tmp');
  return existsSync(root) ? readdirSync(root) : [];
}

/** Path of a stored blob, for tests that corrupt it on disk. */
export function blobPath(dataDir: string, digest: string): string {
  return path.join(dataDir, 'blobs', 'sha256', digest.slice(0, 2), digest.slice(2, 4), digest);
}
