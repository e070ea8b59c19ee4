import { BASELINE_V1_TEXT } from '../../lib/policy/baseline-v1';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const EVENTS = `query($f: EventFilter) { events(filter: $f) { items { eventType outcome policySnapshotId authoritySnapshotId refusalReasonCode details } } }`;

describe('tenant lifecycle and policy baselines', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack();
  });
  afterAll(() => env.stop());

  const events = async (tenantId: string) =>
    (await env.gql<{ events: { items: Array<Record<string, unknown>> } }>(EVENTS, { f: { tenantId } })).data!.events.items;
  const current = async (name = 'ecs-baseline-v1') =>
    (
      await env.gql<{ policyBaseline: { current: { id: string } } }>('query($n: ID!) { policyBaseline(name: $n) { current { id } } }', {
        n: name,
      })
    ).data!.policyBaseline.current.id;

  it('validates creation with the spec’s errors', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ authorityBinding: 'nope' }, 'ECS_MISSING_AUTHORITY'],
      [{ policyBaseline: 'nope' }, 'ECS_MISSING_POLICY'],
      [{ jurisdiction: 'XX' }, 'ECS_VALIDATION_FAILED'],
      [{ jurisdiction: 'de' }, 'ECS_VALIDATION_FAILED'],
      [{ classificationCeiling: 'top' }, 'ECS_BAD_REQUEST'],
      [{ authorityBinding: '' }, 'ECS_VALIDATION_FAILED'],
    ];
    for (const [overrides, code] of cases) {
      const result = await env.gql(CREATE_TENANT, { input: tenantInput(uniqueId(), overrides) });
      expect({ overrides, code: result.errors?.[0]?.extensions?.code }).toEqual({ overrides, code });
    }
    const missingField = await env.gql(CREATE_TENANT, { input: { id: uniqueId(), jurisdiction: 'DE', policyBaseline: 'ecs-baseline-v1' } });
    expect(missingField.errors?.[0]?.extensions?.code).toBe('ECS_BAD_REQUEST');
    expect(missingField.errors?.[0]?.message).toMatch(/authorityBinding/);
    const id = uniqueId();
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(id) })).errors).toBeUndefined();
    const duplicate = await env.gql(CREATE_TENANT, { input: tenantInput(id) });
    expect(duplicate.errors?.[0]?.extensions?.code).toBe('ECS_CONFLICT');
  });

  it('evidences creation, every change with before and after, suspension and deletion, keeping the evidence', async () => {
    const id = uniqueId();
    await env.gql(CREATE_TENANT, { input: tenantInput(id) });
    const update = await env.gql<{ updateTenant: { jurisdiction: string; classificationCeiling: string; id: string } }>(
      'mutation($id: ID!, $i: UpdateTenantInput!) { updateTenant(id: $id, input: $i) { id jurisdiction classificationCeiling } }',
      { id, i: { jurisdiction: 'FR', classificationCeiling: 'restricted' } },
    );
    expect(update.data!.updateTenant).toEqual({ id, jurisdiction: 'FR', classificationCeiling: 'restricted' });
    const idChange = await env.gql('mutation($id: ID!) { updateTenant(id: $id, input: { id: "other" }) { id } }', { id });
    expect(idChange.errors?.[0]?.extensions?.code).toBe('ECS_BAD_REQUEST');
    await env.gql('mutation($id: ID!) { suspendTenant(id: $id) { status } }', { id });
    const deleted = await env.gql<{ deleteTenant: { status: string } }>('mutation($id: ID!) { deleteTenant(id: $id) { status } }', { id });
    expect(deleted.data!.deleteTenant.status).toBe('deleted');

    const chain = await events(id);
    expect(chain.map((event) => event.eventType)).toEqual(['tenant.create', 'tenant.update', 'tenant.suspend', 'tenant.delete']);
    const policy = await current();
    for (const event of chain) {
      expect(event).toMatchObject({
        outcome: 'accepted',
        policySnapshotId: policy,
        authoritySnapshotId: expect.stringMatching(/^authsnap:/),
      });
    }
    expect(chain[1]!.details).toMatchObject({
      before: { jurisdiction: 'DE', classification_ceiling: 'internal', status: 'active' },
      after: { jurisdiction: 'FR', classification_ceiling: 'restricted', status: 'active' },
    });
    expect(chain[3]!.details).toMatchObject({ before: { status: 'suspended' }, after: { status: 'deleted' } });
    const verified = await env.gql<{ verifyChain: { valid: boolean; checked: number } }>(
      'query($t: ID!) { verifyChain(tenantId: $t) { valid checked } }',
      { t: id },
    );
    expect(verified.data!.verifyChain).toEqual({ valid: true, checked: 4 });
  });

  it('publishes baselines as immutable snapshots derived from their text, refusing invalid Cedar with Cedar’s message', async () => {
    const name = uniqueId('pol');
    const publish = (text: string) =>
      env.gql<{ publishPolicyBaseline: { current: { id: string; version: number }; snapshots: Array<{ id: string }> } }>(
        'mutation($i: PublishPolicyBaselineInput!) { publishPolicyBaseline(input: $i) { current { id version } snapshots { id } } }',
        { i: { name, text } },
      );
    const first = await publish(BASELINE_V1_TEXT);
    expect(first.data!.publishPolicyBaseline.current).toMatchObject({
      id: expect.stringMatching(/^polsnap:sha256:[0-9a-f]{64}$/),
      version: 1,
    });
    const again = await publish(BASELINE_V1_TEXT);
    expect(again.data!.publishPolicyBaseline.current).toEqual(first.data!.publishPolicyBaseline.current);
    const stricter = BASELINE_V1_TEXT.replace('"ghcr.io"', '"registry.other.eu"');
    const second = await publish(stricter);
    expect(second.data!.publishPolicyBaseline.current.version).toBe(2);
    expect(second.data!.publishPolicyBaseline.snapshots.map((snapshot) => snapshot.id)).toEqual([
      first.data!.publishPolicyBaseline.current.id,
      second.data!.publishPolicyBaseline.current.id,
    ]);
    const old = await env.gql<{ policySnapshot: { text: string; version: number } }>(
      'query($id: ID!) { policySnapshot(id: $id) { text version } }',
      {
        id: first.data!.publishPolicyBaseline.current.id,
      },
    );
    expect(old.data!.policySnapshot).toEqual({ text: BASELINE_V1_TEXT, version: 1 });

    const unparsable = await publish('permit (principal, action');
    expect(unparsable.errors?.[0]?.extensions?.code).toBe('ECS_VALIDATION_FAILED');
    expect(unparsable.errors?.[0]?.message).toMatch(/unexpected end of input/);
    const invalid = await publish(
      '@id("x") permit (principal, action == Ecs::Action::"workload.deploy", resource) when { resource.nope == 1 };',
    );
    expect(invalid.errors?.[0]?.message).toMatch(/nope/);
    const unexplained = await publish('@id("x") forbid (principal, action == Ecs::Action::"workload.deploy", resource);');
    expect(unexplained.errors?.[0]?.message).toMatch(/@reason_class/);

    await expect(
      env.stack.services.db.prisma.$executeRawUnsafe(
        `UPDATE control_policy_snapshots SET text = 'permit(principal, action, resource);' WHERE baseline = '${name}'`,
      ),
    ).rejects.toThrow(/append-only/);
    const platform = (await events('_platform')).filter(
      (event) => event.eventType === 'policy.snapshot.publish' && (event.details as { policy_baseline: string }).policy_baseline === name,
    );
    expect(platform).toHaveLength(2);
  });

  it('only platform administrators change tenants and policies', async () => {
    const id = uniqueId();
    await env.gql(CREATE_TENANT, { input: tenantInput(id) });
    const tenantAdmin = await env.token('tenant-admin', id);
    for (const [query, variables] of [
      ['mutation($id: ID!) { suspendTenant(id: $id) { id } }', { id }],
      ['mutation($id: ID!) { deleteTenant(id: $id) { id } }', { id }],
      [
        'mutation($i: PublishPolicyBaselineInput!) { publishPolicyBaseline(input: $i) { name } }',
        { i: { name: 'x-pol', text: BASELINE_V1_TEXT } },
      ],
    ] as const) {
      const refused = await env.gqlAs(tenantAdmin, query, variables);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.any(String) });
    }
    const read = await env.gqlAs<{ tenant: { status: string } }>(tenantAdmin, 'query($id: ID!) { tenant(id: $id) { status } }', { id });
    expect(read.data!.tenant.status).toBe('active');
  });
});
