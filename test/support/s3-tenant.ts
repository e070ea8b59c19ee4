import { CreateBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { CREATE_TENANT, tenantInput } from './test-stack';
import type { TestStack } from './test-stack';

const CREATE_CREDENTIAL = `mutation($i: CreateS3CredentialInput!) {
  createS3Credential(input: $i) { secretAccessKey s3Credential { accessKeyId } }
}`;
const EVENTS = 'query($f: EventFilter) { events(filter: $f, first: 1000) { items { eventType outcome evidencePointer details } } }';

export const ALL_S3_SCOPES = ['tenant.read', 'storage.read', 'storage.write', 'storage.delete', 'storage.govern'];
/** Every S3 scope but `storage.govern`: reads, writes and deletes. */
export const DATA_S3_SCOPES = ['tenant.read', 'storage.read', 'storage.write', 'storage.delete'];

/** The seven governance fields every write carries, as S3 user metadata (`x-amz-meta-eosc-*`); `overrides` replace or add fields. */
export function governanceMetadata(tag: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'eosc-jurisdiction': 'DE',
    'eosc-retention-ttl': 'P1D',
    'eosc-classification': 'internal',
    'eosc-evidence-pointer': `eosc://evidence/${tag}`,
    'eosc-data-product-id': `dp-${tag}`,
    'eosc-usage-policy-snapshot-id': `pol-${tag}`,
    'eosc-consent-token-ref': `consent-${tag}`,
    ...overrides,
  };
}

export interface ChainEvent {
  eventType: string;
  outcome: string;
  evidencePointer: string;
  details: Record<string, unknown>;
}

/** The tenant's credentials for the S3 endpoint. */
export interface S3Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An S3 credential and the AWS SDK's client signed with it. */
export interface S3Credential extends S3Keys {
  /** The AWS SDK's client signed with the credential, path-style at `<gateway>/s3` unless another endpoint was asked for. */
  client: S3Client;
}

export interface S3Tenant extends S3Credential {
  tenantId: string;
  /** The tenant's evidence chain (up to 1,000 events), as the platform administrator reads it. */
  events(): Promise<ChainEvent[]>;
}

export interface S3CredentialOptions {
  /** The credential's scopes (default: every S3 scope). */
  scopes?: string[];
  /** The credential's name (default `s3-test`). */
  name?: string;
  /** The S3 endpoint the client talks to (default `<gateway>/s3`). */
  endpoint?: string;
}

/** The AWS SDK's client for `keys`, path-style, in us-east-1, without retries. */
export function s3ClientFor(endpoint: string, keys: S3Keys): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
    maxAttempts: 1,
  });
}

/** A further S3 credential of an existing tenant, with an SDK client for it. */
export async function createS3Credential(env: TestStack, tenantId: string, options: S3CredentialOptions = {}): Promise<S3Credential> {
  const admin = await env.token('tenant-admin', tenantId);
  const created = await env.gqlAs<{ createS3Credential: { secretAccessKey: string; s3Credential: { accessKeyId: string } } }>(
    admin,
    CREATE_CREDENTIAL,
    { i: { tenantId, name: options.name ?? 's3-test', scopes: options.scopes ?? ALL_S3_SCOPES } },
  );
  if (created.errors || !created.data) throw new Error(`createS3Credential: ${JSON.stringify(created.errors)}`);
  const { secretAccessKey, s3Credential } = created.data.createS3Credential;
  const keys = { accessKeyId: s3Credential.accessKeyId, secretAccessKey };
  return { ...keys, client: s3ClientFor(options.endpoint ?? `${env.url}/s3`, keys) };
}

/** The tenant's evidence chain (up to 1,000 events), as the platform administrator reads it. */
export async function tenantEvents(env: TestStack, tenantId: string): Promise<ChainEvent[]> {
  const result = await env.gql<{ events: { items: ChainEvent[] } }>(EVENTS, { f: { tenantId } });
  if (!result.data) throw new Error(`events: ${JSON.stringify(result.errors)}`);
  return result.data.events.items;
}

/** A tenant on the running stack with an S3 credential (of `scopes`, or as `options` say) and an SDK client for it. */
export async function createS3Tenant(
  env: TestStack,
  tenantId: string,
  scopesOrOptions: string[] | S3CredentialOptions = ALL_S3_SCOPES,
): Promise<S3Tenant> {
  const tenant = await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) });
  if (tenant.errors) throw new Error(`createTenant: ${JSON.stringify(tenant.errors)}`);
  const options = Array.isArray(scopesOrOptions) ? { scopes: scopesOrOptions } : scopesOrOptions;
  const credential = await createS3Credential(env, tenantId, options);
  return { tenantId, ...credential, events: () => tenantEvents(env, tenantId) };
}

/** Creates `bucket` in DE through `client`, with object lock (and so versioning) when asked. */
export async function createS3Bucket(client: S3Client, bucket: string, options: { objectLock?: boolean } = {}): Promise<void> {
  await client.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: 'DE' as never },
      ...(options.objectLock ? { ObjectLockEnabledForBucket: true } : {}),
    }),
  );
}

/** The S3 error a request was refused with (fails when it succeeded or failed otherwise). */
export async function s3Refusal(promise: Promise<unknown>): Promise<S3ServiceException> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof S3ServiceException)) throw new Error(`expected an S3 service error, got ${String(error)}`);
  return error;
}
