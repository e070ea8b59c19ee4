import { Agent, fetch } from 'undici';
import type { Caller } from '../../lib/auth/caller';
import { IDENTITY_HEADER } from '../../lib/auth/identity-token';
import type { Plane } from '../../lib/config/config';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

/**
 * `_entities` of every `@key`, called on each plane directly over mTLS the way the
 * gateway does, including unknown keys (null, not an error).
 */
describe('_entities for every @key', () => {
  let env: TestStack;
  let agent: Agent;
  const tenantId = uniqueId();
  let workloadId: string;
  const bucketName = uniqueId('b');
  let eventId: string;

  const platformAdmin: Caller = { subject: 'admin', roles: ['platform-admin'], authMethod: 'dev-issuer' };

  async function entities(
    plane: Plane,
    representations: unknown[],
    selection: string,
    caller: Caller = platformAdmin,
  ): Promise<{ data?: { _entities: unknown[] }; errors?: unknown }> {
    const response = await fetch(env.stack.subgraphs[plane].url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: await env.stack.services.identityTokens.sign(caller, plane),
      },
      body: JSON.stringify({
        query: `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`,
        variables: { r: representations },
      }),
      dispatcher: agent,
    });
    return (await response.json()) as { data?: { _entities: unknown[] } };
  }

  beforeAll(async () => {
    env = await startTestStack();
    const tls = env.stack.services.tls;
    agent = new Agent({ connect: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } });
    await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) });
    const workload = await env.gql<{ createWorkload: { id: string } }>(CREATE_WORKLOAD, {
      input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
    });
    workloadId = workload.data!.createWorkload.id;
    await env.gql(`mutation($input: CreateBucketInput!) { createBucket(input: $input) { name } }`, {
      input: { name: bucketName, tenantId, jurisdiction: 'DE' },
    });
    const events = await env.gql<{ events: { items: Array<{ id: string }> } }>(
      `query($t: ID!) { events(filter: { tenantId: $t }) { items { id } } }`,
      { t: tenantId },
    );
    eventId = events.data!.events.items[0]!.id;
  });
  afterAll(async () => {
    await agent.close();
    await env.stop();
  });

  it('control: Tenant by id', async () => {
    const result = await entities(
      'control',
      [
        { __typename: 'Tenant', id: tenantId },
        { __typename: 'Tenant', id: 'nope' },
      ],
      '... on Tenant { id jurisdiction status }',
    );
    expect(result.data!._entities).toEqual([{ id: tenantId, jurisdiction: 'DE', status: 'active' }, null]);
  });

  it('execution: Workload by id and Tenant.workloads', async () => {
    const workloads = await entities(
      'execution',
      [
        { __typename: 'Workload', id: workloadId },
        { __typename: 'Workload', id: 'nope' },
      ],
      '... on Workload { id tenantId }',
    );
    expect(workloads.data!._entities).toEqual([{ id: workloadId, tenantId }, null]);
    const tenants = await entities('execution', [{ __typename: 'Tenant', id: tenantId }], '... on Tenant { workloads { id } }');
    expect(tenants.data!._entities).toEqual([{ workloads: [{ id: workloadId }] }]);
  });

  it('data: Bucket by name and Tenant.buckets', async () => {
    const buckets = await entities('data', [{ __typename: 'Bucket', name: bucketName }], '... on Bucket { name tenantId }');
    expect(buckets.data!._entities).toEqual([{ name: bucketName, tenantId }]);
    const tenants = await entities('data', [{ __typename: 'Tenant', id: tenantId }], '... on Tenant { buckets { name } }');
    expect(tenants.data!._entities).toEqual([{ buckets: [{ name: bucketName }] }]);
  });

  it('identity: ApiKey by id and Tenant.apiKeys', async () => {
    const keys = await entities('identity', [{ __typename: 'ApiKey', id: 'no-such-key' }], '... on ApiKey { id }');
    expect(keys.data!._entities).toEqual([null]);
    const tenants = await entities('identity', [{ __typename: 'Tenant', id: tenantId }], '... on Tenant { apiKeys { id } }');
    expect(tenants.data!._entities).toEqual([{ apiKeys: [] }]);
  });

  it('audit: EvidenceEvent by id and Tenant.events', async () => {
    const events = await entities(
      'audit',
      [
        { __typename: 'EvidenceEvent', id: eventId },
        { __typename: 'EvidenceEvent', id: 'not-a-uuid' },
      ],
      '... on EvidenceEvent { id tenantId }',
    );
    expect(events.data!._entities).toEqual([{ id: eventId, tenantId }, null]);
    const tenants = await entities('audit', [{ __typename: 'Tenant', id: tenantId }], '... on Tenant { events(last: 1) { eventType } }');
    expect(tenants.data!._entities).toEqual([{ events: [{ eventType: 'storage.bucket.create' }] }]);
  });

  it("checklist 14: returns nothing for another tenant's entities (BOLA through federation)", async () => {
    const stranger: Caller = { subject: 'eve', roles: ['tenant-admin'], tenantId: 'other-tenant', authMethod: 'dev-issuer' };
    const cases: Array<[Plane, unknown, string]> = [
      ['control', { __typename: 'Tenant', id: tenantId }, '... on Tenant { id }'],
      ['execution', { __typename: 'Workload', id: workloadId }, '... on Workload { id }'],
      ['data', { __typename: 'Bucket', name: bucketName }, '... on Bucket { name }'],
      ['audit', { __typename: 'EvidenceEvent', id: eventId }, '... on EvidenceEvent { id }'],
    ];
    for (const [plane, representation, selection] of cases) {
      const result = await entities(plane, [representation], selection, stranger);
      expect(result.data!._entities).toEqual([null]);
    }
    const lists = await entities('execution', [{ __typename: 'Tenant', id: tenantId }], '... on Tenant { workloads { id } }', stranger);
    expect(lists.data!._entities).toEqual([{ workloads: [] }]);
    const events = await entities('audit', [{ __typename: 'Tenant', id: tenantId }], '... on Tenant { events { id } }', stranger);
    expect(events.data!._entities).toEqual([{ events: [] }]);
  });
});
