import { createS3CredentialLookup } from '../../gateway/s3-credential-lookup';
import { S3Error } from '../../lib/s3/s3-error';
import { signingKey } from '../../lib/s3/sigv4-crypto';
import { createPlaneClient, type PlaneFetch } from '../../lib/subgraph/plane-client';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const CREATE = `mutation($i: CreateS3CredentialInput!) {
  createS3Credential(input: $i) { secretAccessKey s3Credential { id accessKeyId tenantId scopes expiresAt } }
}`;
const REVOKE = 'mutation($id: ID!) { revokeS3Credential(id: $id) { id revokedAt } }';
const LIST = 'query($id: ID!) { tenant(id: $id) { s3Credentials { id accessKeyId revokedAt } } }';
const EVENTS = 'query($f: EventFilter) { events(filter: $f, first: 1000) { items { eventType outcome actor details } } }';

interface Created {
  secretAccessKey: string;
  s3Credential: { id: string; accessKeyId: string; tenantId: string; scopes: string[]; expiresAt: string | null };
}

const SCOPE = { date: '20261206', region: 'us-east-1', service: 's3' };

describe('S3 credentials', () => {
  let env: TestStack;
  const tenantA = uniqueId('s3a');
  const tenantB = uniqueId('s3b');

  function lookup() {
    const { services, subgraphs } = env.stack;
    return createS3CredentialLookup(
      (requestId) =>
        createPlaneClient({
          self: 'gateway',
          urlOf: (plane) => subgraphs[plane].url,
          fetch: services.fetcher as unknown as PlaneFetch,
          timeoutMs: 10_000,
          requestId,
          correlationId: requestId,
          identityTokens: services.identityTokens,
        }),
      0,
    );
  }

  async function create(tenantId: string, input: Record<string, unknown> = {}) {
    const admin = await env.token('tenant-admin', tenantId);
    return env.gqlAs<{ createS3Credential: Created }>(admin, CREATE, {
      i: { tenantId, name: 'backup', scopes: ['storage.read', 'storage.write'], ...input },
    });
  }

  beforeAll(async () => {
    env = await startTestStack();
    for (const id of [tenantA, tenantB]) expect((await env.gql(CREATE_TENANT, { input: tenantInput(id) })).errors).toBeUndefined();
  });
  afterAll(() => env?.stop());

  it('shows the secret once, stores it sealed, and gives the gateway only the signing key of a scope', async () => {
    const result = await create(tenantA);
    expect(result.errors).toBeUndefined();
    const { secretAccessKey, s3Credential } = result.data!.createS3Credential;
    expect(s3Credential.accessKeyId).toMatch(/^ECSK[A-Z2-7]{16}$/);
    expect(secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);

    const rows = await env.stack.services.db.prisma.s3Credential.findMany({ where: { id: s3Credential.id } });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(secretAccessKey);
    expect(rows[0]!.sealedSecret).toMatch(/^v1\./);

    const found = await lookup()(s3Credential.accessKeyId, SCOPE, 'req-1');
    expect(found?.signingKey.equals(signingKey(secretAccessKey, SCOPE))).toBe(true);
    expect(found?.caller).toMatchObject({ tenantId: tenantA, authMethod: 's3-credential', scopes: ['storage.read', 'storage.write'] });
    expect(await lookup()('ECSKAAAAAAAAAAAAAAAA', SCOPE, 'req-2')).toBeUndefined();

    const events = await env.gql<{ events: { items: Array<{ eventType: string; details: Record<string, unknown> }> } }>(EVENTS, {
      f: { tenantId: tenantA },
    });
    const createdEvent = events.data!.events.items.find((event) => event.eventType === 's3credential.create');
    expect(createdEvent?.details).toMatchObject({ s3_credential_id: s3Credential.id, access_key_id: s3Credential.accessKeyId });
    expect(JSON.stringify(events.data)).not.toContain(secretAccessKey);
  });

  it('revokes, expires, and keeps tenants apart', async () => {
    const { s3Credential } = (await create(tenantA)).data!.createS3Credential;
    const adminB = await env.token('tenant-admin', tenantB);
    const foreign = await env.gqlAs<{ revokeS3Credential: unknown }>(adminB, REVOKE, { id: s3Credential.id });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('ECS_FORBIDDEN');
    const listedByB = await env.gqlAs<{ tenant: { s3Credentials: unknown[] } | null }>(adminB, LIST, { id: tenantA });
    expect(listedByB.data?.tenant?.s3Credentials ?? []).toEqual([]);

    const adminA = await env.token('tenant-admin', tenantA);
    const revoked = await env.gqlAs<{ revokeS3Credential: { revokedAt: string | null } }>(adminA, REVOKE, { id: s3Credential.id });
    expect(revoked.data!.revokeS3Credential.revokedAt).toEqual(expect.any(String));
    expect(await lookup()(s3Credential.accessKeyId, SCOPE, 'req-3')).toBeUndefined();
    const listed = await env.gqlAs<{ tenant: { s3Credentials: Array<{ id: string; revokedAt: string | null }> } }>(adminA, LIST, {
      id: tenantA,
    });
    expect(listed.data!.tenant.s3Credentials.find((item) => item.id === s3Credential.id)?.revokedAt).toEqual(expect.any(String));

    const soon = (await create(tenantA, { expiresAt: new Date(Date.now() + 1500).toISOString() })).data!.createS3Credential;
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const error = await lookup()(soon.s3Credential.accessKeyId, SCOPE, 'req-4').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(S3Error);
    expect((error as S3Error).code).toBe('ExpiredToken');
  });

  it('refuses scopes beyond a tenant administrator and callers of another tenant', async () => {
    const tooWide = await create(tenantA, { scopes: ['apikey.manage'] });
    expect(tooWide.errors?.[0]?.extensions?.code).toBe('ECS_VALIDATION_FAILED');
    const adminB = await env.token('tenant-admin', tenantB);
    const foreign = await env.gqlAs(adminB, CREATE, { i: { tenantId: tenantA, name: 'x', scopes: ['storage.read'] } });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('ECS_FORBIDDEN');
  });
});
