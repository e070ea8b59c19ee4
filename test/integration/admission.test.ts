import { Agent, fetch } from 'undici';
import { IDENTITY_HEADER } from '../../lib/auth/identity-token';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { chainEvents } from '../support/chain-events';
import type { ChainEvent } from '../support/chain-events';

describe('workload admission by the Cedar policy in force', () => {
  let env: TestStack;
  let baselineSnapshot: string;

  const chain = (tenantId: string): Promise<ChainEvent[]> => chainEvents(env, tenantId);

  async function tenant(overrides: Record<string, unknown> = {}): Promise<string> {
    const id = uniqueId('t');
    const created = await env.gql(CREATE_TENANT, {
      input: tenantInput(id, { jurisdiction: 'EU', classificationCeiling: 'restricted', ...overrides }),
    });
    expect(created.errors).toBeUndefined();
    return id;
  }

  function deploy(tenantId: string, workload: Record<string, unknown> = {}, token?: string) {
    const input = {
      tenantId,
      envelopeType: 'container',
      imageRef: PINNED_IMAGE,
      jurisdiction: 'DE',
      classification: 'internal',
      ...workload,
    };
    return token ? env.gqlAs(token, CREATE_WORKLOAD, { input }) : env.gql(CREATE_WORKLOAD, { input });
  }

  /** Deploys, expects the refusal, and exactly one new refused event in the tenant's chain. */
  async function expectRefused(tenantId: string, workload: Record<string, unknown>, code: string, reasonClass: string, reasonCode: string) {
    const before = (await chain(tenantId)).length;
    const result = await deploy(tenantId, workload);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code, evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:/) });
    expect(result.data).toBeNull();
    const events = await chain(tenantId);
    expect(events).toHaveLength(before + 1);
    const refusal = events[events.length - 1]!;
    expect(refusal).toMatchObject({
      eventType: 'workload.refuse',
      outcome: 'refused',
      evidencePointer: result.errors![0]!.extensions!.evidence_pointer,
      refusalReasonClass: reasonClass,
      refusalReasonCode: reasonCode,
      refusalSubject: 'workload.deploy',
      authoritySnapshotId: expect.stringMatching(/^authsnap:/),
    });
    return refusal;
  }

  beforeAll(async () => {
    env = await startTestStack();
    const baseline = await env.gql<{ policyBaseline: { current: { id: string } } }>(
      '{ policyBaseline(name: "ecs-baseline-v1") { current { id } } }',
    );
    baselineSnapshot = baseline.data!.policyBaseline.current.id;
  });
  afterAll(() => env.stop());

  it('admits a pinned container within the tenant boundaries, recording both snapshots and the deciding policy', async () => {
    const id = await tenant();
    const result = await deploy(id);
    expect(result.errors).toBeUndefined();
    const events = await chain(id);
    expect(events[events.length - 1]).toMatchObject({
      eventType: 'workload.admit',
      outcome: 'accepted',
      policySnapshotId: baselineSnapshot,
      authoritySnapshotId: expect.stringMatching(/^authsnap:/),
      details: expect.objectContaining({ policy_ids: ['admit-workload'] }),
    });
  });

  it.each([
    [
      'jurisdiction outside the tenant',
      { jurisdiction: 'US' },
      'ECS_JURISDICTION_DENIED',
      'jurisdiction_denied',
      'jurisdiction_outside_tenant',
    ],
    [
      'classification above the ceiling',
      { classification: 'secret', envelopeType: 'vm' },
      'ECS_POLICY_DENIED',
      'policy_denied',
      'classification_above_ceiling',
    ],
    [
      'registry not allowed',
      { imageRef: `docker.io/library/nginx@sha256:${'c'.repeat(64)}` },
      'ECS_POLICY_DENIED',
      'policy_denied',
      'registry_not_allowed',
    ],
    [
      'unpinned image where a digest is required',
      { imageRef: 'registry.example.eu/app:1.0', classification: 'restricted', envelopeType: 'vm' },
      'ECS_POLICY_DENIED',
      'evidence_precondition_failed',
      'image_not_pinned',
    ],
    [
      'VM envelope required',
      { classification: 'restricted', envelopeType: 'container' },
      'ECS_POLICY_DENIED',
      'policy_denied',
      'vm_envelope_required',
    ],
  ])('refuses %s with one refusal event naming the Cedar policy', async (_name, workload, code, reasonClass, reasonCode) => {
    const id = await tenant();
    const refusal = await expectRefused(id, workload, code, reasonClass, reasonCode);
    expect(refusal.policySnapshotId).toBe(baselineSnapshot);
    expect(refusal.details.policy_ids).toEqual(expect.arrayContaining([expect.any(String)]));
  });

  it('admits an unpinned internal container (digests are required from restricted up)', async () => {
    const id = await tenant();
    expect((await deploy(id, { imageRef: 'registry.example.eu/app:1.0' })).errors).toBeUndefined();
    expect((await deploy(id, { classification: 'restricted', envelopeType: 'vm' })).errors).toBeUndefined();
  });

  it('refuses every governed action of a suspended tenant, and admits again once resumed', async () => {
    const id = await tenant();
    const suspended = await env.gql<{ suspendTenant: { status: string } }>('mutation($id: ID!) { suspendTenant(id: $id) { status } }', {
      id,
    });
    expect(suspended.data!.suspendTenant.status).toBe('suspended');
    await expectRefused(id, {}, 'ECS_POLICY_DENIED', 'policy_denied', 'tenant_suspended');
    const bucket = await env.gql(`mutation($i: CreateBucketInput!) { createBucket(input: $i) { name } }`, {
      i: { name: uniqueId('b'), tenantId: id, jurisdiction: 'DE' },
    });
    expect(bucket.errors?.[0]?.extensions?.code).toBe('ECS_POLICY_DENIED');
    await env.gql('mutation($id: ID!) { resumeTenant(id: $id) { status } }', { id });
    expect((await deploy(id)).errors).toBeUndefined();
  });

  it('checklist 61: fails closed with refusal evidence when the policy in force cannot be evaluated', async () => {
    const broken = uniqueId('broken');
    // Valid Cedar for the schema, but evaluation overflows: Cedar reports an error, not a decision.
    const text = `@id("admit") permit (principal, action == Ecs::Action::"workload.deploy", resource)
when { resource.level * 9223372036854775807 * 9223372036854775807 > 0 };`;
    const published = await env.gql('mutation($i: PublishPolicyBaselineInput!) { publishPolicyBaseline(input: $i) { name } }', {
      i: { name: broken, text },
    });
    expect(published.errors).toBeUndefined();
    const id = await tenant({ policyBaseline: broken });
    const refusal = await expectRefused(
      id,
      { classification: 'internal' },
      'ECS_DEPENDENCY_UNAVAILABLE',
      'dependency_unavailable_fail_closed',
      'policy_evaluation_failed',
    );
    expect(refusal.policySnapshotId).toMatch(/^polsnap:/);
  });

  it('checklist 61: fails closed with refusal evidence when the control plane cannot be asked', async () => {
    const id = await tenant();
    const other = await startTestStack();
    try {
      await other.gql(CREATE_TENANT, { input: tenantInput(id, { jurisdiction: 'EU', classificationCeiling: 'restricted' }) });
      await other.stack.subgraphs.control.close();
      const result = await other.gql(CREATE_WORKLOAD, {
        input: { tenantId: id, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
      });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'ECS_DEPENDENCY_UNAVAILABLE', evidence_pointer: expect.any(String) });
      const events = await other.stack.services.db.prisma.evidenceEvent.findMany({ where: { tenantId: id, outcome: 'refused' } });
      expect(events).toHaveLength(1);
      expect(JSON.parse(events[0]!.canonical)).toMatchObject({
        refusal_reason_class: 'dependency_unavailable_fail_closed',
        refusal_reason_code: 'control_plane_unavailable',
      });
    } finally {
      await other.stop();
    }
  });

  it('terminates a workload with evidence and lists a tenant’s workloads', async () => {
    const id = await tenant();
    const first = await deploy(id);
    const second = await deploy(id);
    const ids = [first, second].map((result) => (result.data as { createWorkload: { id: string } }).createWorkload.id);
    const listed = await env.gql<{ workloads: { items: Array<{ id: string }>; nextCursor: string | null } }>(
      'query($t: ID!) { workloads(tenantId: $t, first: 1) { items { id } nextCursor } }',
      { t: id },
    );
    expect(listed.data!.workloads.items.map((item) => item.id)).toEqual([ids[1]]);
    const rest = await env.gql<{ workloads: { items: Array<{ id: string }>; nextCursor: string | null } }>(
      'query($t: ID!, $a: String) { workloads(tenantId: $t, first: 1, after: $a) { items { id } nextCursor } }',
      { t: id, a: listed.data!.workloads.nextCursor },
    );
    expect(rest.data!.workloads).toEqual({ items: [{ id: ids[0] }], nextCursor: null });
    const terminated = await env.gql<{ deleteWorkload: { status: string } }>('mutation($id: ID!) { deleteWorkload(id: $id) { status } }', {
      id: ids[0],
    });
    expect(terminated.data!.deleteWorkload.status).toBe('terminated');
    const events = await chain(id);
    expect(events[events.length - 1]).toMatchObject({
      eventType: 'workload.terminate',
      details: expect.objectContaining({ previous_status: 'admitted', status: 'terminated' }),
    });
  });

  it('takes runtime status reports only from a service identity', async () => {
    const id = await tenant();
    const workloadId = ((await deploy(id)).data as { createWorkload: { id: string } }).createWorkload.id;
    const refused = await env.gql('mutation($r: WorkloadStatusReport!) { reportWorkloadStatus(report: $r) { status } }', {
      r: { workloadId, status: 'running' },
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.any(String) });
    const tls = env.stack.services.tls;
    const agent = new Agent({ connect: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } });
    try {
      const orchestrator = { subject: 'service:orchestrator', roles: ['service' as const], authMethod: 'service' as const };
      const response = await fetch(env.stack.subgraphs.execution.url, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          [IDENTITY_HEADER]: await env.stack.services.identityTokens.sign(orchestrator, 'execution'),
        },
        body: JSON.stringify({
          query: 'mutation($r: WorkloadStatusReport!) { reportWorkloadStatus(report: $r) { status } }',
          variables: { r: { workloadId, status: 'running', detail: 'node eu-1' } },
        }),
      });
      expect(await response.json()).toEqual({ data: { reportWorkloadStatus: { status: 'running' } } });
    } finally {
      await agent.close();
    }
    const events = await chain(id);
    expect(events[events.length - 1]).toMatchObject({
      eventType: 'workload.status.report',
      details: expect.objectContaining({ status: 'running', detail: 'node eu-1' }),
    });
  });
});
