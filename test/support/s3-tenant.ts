import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { CREATE_TENANT, tenantInput } from './test-stack';
import type { TestStack } from './test-stack';

const CREATE_CREDENTIAL = `mutation($i: CreateS3CredentialInput!) {
  createS3Credential(input: $i) { secretAccessKey s3Credential { accessKeyId } }
}`;
const EVENTS = 'query($f: EventFilter) { events(filter: $f, first: 1000) { items { eventType outcome evidencePointer details } } }';

export const ALL_S3_SCOPES = ['tenant.read', 'storage.read', 'storage.write', 'storage.delete', 'storage.govern'];

/** The seven governance fields every write carries, as S3 user metadata (`x-amz-meta-eosc-*`). */
export function governanceMetadata(tag: string): Record<string, string> {
  return {
    'eosc-jurisdiction': 'DE',
    'eosc-retention-ttl': 'P1D',
    'eosc-classification': 'internal',
    'eosc-evidence-pointer': `eosc://evidence/${tag}`,
    'eosc-data-product-id': `dp-${tag}`,
    'eosc-usage-policy-snapshot-id': `pol-${tag}`,
    'eosc-consent-token-ref': `consent-${tag}`,
  };
}

export interface ChainEvent {
  eventType: string;
  outcome: string;
  evidencePointer: string;
  details: Record<string, unknown>;
}

export interface S3Tenant {
  tenantId: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The AWS SDK's client signed with the tenant's credential, path-style at `<gateway>/s3`. */
  client: S3Client;
  /** The tenant's evidence chain (up to 1,000 events), as the platform administrator reads it. */
  events(): Promise<ChainEvent[]>;
}

/** A tenant on the running stack with an S3 credential of `scopes` and an SDK client for it. */
export async function createS3Tenant(env: TestStack, tenantId: string, scopes: string[] = ALL_S3_SCOPES): Promise<S3Tenant> {
  const tenant = await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) });
  if (tenant.errors) throw new Error(`createTenant: ${JSON.stringify(tenant.errors)}`);
  const admin = await env.token('tenant-admin', tenantId);
  const created = await env.gqlAs<{ createS3Credential: { secretAccessKey: string; s3Credential: { accessKeyId: string } } }>(
    admin,
    CREATE_CREDENTIAL,
    { i: { tenantId, name: 's3-test', scopes } },
  );
  if (created.errors || !created.data) throw new Error(`createS3Credential: ${JSON.stringify(created.errors)}`);
  const { secretAccessKey, s3Credential } = created.data.createS3Credential;
  const client = new S3Client({
    endpoint: `${env.url}/s3`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3Credential.accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  return {
    tenantId,
    accessKeyId: s3Credential.accessKeyId,
    secretAccessKey,
    client,
    events: async () => {
      const result = await env.gql<{ events: { items: ChainEvent[] } }>(EVENTS, { f: { tenantId } });
      if (!result.data) throw new Error(`events: ${JSON.stringify(result.errors)}`);
      return result.data.events.items;
    },
  };
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
