// Requests written from the spec's OpenAPI skeleton (docs/interop/openapi-skeleton.yaml) are
// accepted: its required fields are the only ones a client must send, fields it lists that
// the server owns are checked for agreement (never refused for being there), and a server-owned
// field never changes state. Against a running stack.
import { PINNED_IMAGE, startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

type Json = Record<string, unknown>;

describe('REST requests as the skeleton writes them', () => {
  let env: TestStack;
  const tenant = uniqueId('conf');
  let tenantAdmin: string;

  const call = async (method: string, path: string, body?: unknown, token = env.adminToken) => {
    const response = await fetch(`${env.url}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const workloadCount = async () => env.stack.services.db.prisma.workload.count({ where: { tenantId: tenant } });
  const eventCount = async () => env.stack.services.db.prisma.evidenceEvent.count({ where: { tenantId: tenant } });

  beforeAll(async () => {
    env = await startTestStack();
    tenantAdmin = await env.token('tenant-admin', tenant);
    // The skeleton's Tenant with every property it lists, `status` included.
    const created = await call('POST', '/v1/tenants', {
      id: tenant,
      authority_binding: 'auth-dev-001',
      jurisdiction: 'DE',
      classification_ceiling: 'restricted',
      policy_baseline: 'ecs-baseline-v1',
      status: 'active',
    });
    expect([created.status, created.body.status]).toEqual([201, 'active']);
  });
  afterAll(() => env.stop());

  it("creates a workload from exactly the skeleton's required fields, honouring the client's id and deriving the rest from the tenant", async () => {
    const id = uniqueId('wl');
    const created = await call(
      'POST',
      '/v1/workloads',
      { id, tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE },
      tenantAdmin,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id, tenant_id: tenant, jurisdiction: 'DE', classification: 'internal', status: 'admitted' });
    expect((await call('GET', `/v1/workloads/${id}`, undefined, tenantAdmin)).body).toMatchObject({ id, jurisdiction: 'DE' });
    // The admission evidence names the id the client chose.
    const admitted = await env.stack.services.db.prisma.evidenceEvent.findMany({
      where: { tenantId: tenant, eventType: 'workload.admit' },
    });
    expect(admitted.map((event) => (JSON.parse(event.canonical) as Json).workload_id)).toContain(id);
  });

  it('answers 409 for a workload id in use, and stores nothing for it', async () => {
    const id = uniqueId('wl');
    const body = { id, tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE };
    expect((await call('POST', '/v1/workloads', body, tenantAdmin)).status).toBe(201);
    const [workloads, events] = [await workloadCount(), await eventCount()];
    const again = await call('POST', '/v1/workloads', { ...body, envelope_type: 'vm' }, tenantAdmin);
    expect([again.status, again.body.code, again.body.message]).toEqual([409, 'ECS_CONFLICT', `workload ${id} already exists`]);
    expect([await workloadCount(), await eventCount()]).toEqual([workloads, events]);
    expect((await call('GET', `/v1/workloads/${id}`, undefined, tenantAdmin)).body.envelope_type).toBe('container');
  });

  it('leaves out the id to get a UUID, and refuses an id outside the identifier rules', async () => {
    const created = await call(
      'POST',
      '/v1/workloads',
      { tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE },
      tenantAdmin,
    );
    expect(created.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const id of ['', '-leading-hyphen', 'has space', 'x'.repeat(65), 'slash/inside']) {
      const refused = await call(
        'POST',
        '/v1/workloads',
        { id, tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE },
        tenantAdmin,
      );
      expect([id, refused.status, refused.body.code, refused.body.message]).toEqual([
        id,
        400,
        'ECS_VALIDATION_FAILED',
        expect.stringMatching(/\bid\b/),
      ]);
    }
  });

  it('checks server-owned fields for agreement: a status saying what the server would set passes, any other is refused and changes nothing', async () => {
    const base = { tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE };
    expect((await call('POST', '/v1/workloads', { ...base, status: 'admitted' }, tenantAdmin)).status).toBe(201);
    const workloads = await workloadCount();
    const running = await call('POST', '/v1/workloads', { ...base, status: 'running' }, tenantAdmin);
    expect([running.status, running.body.code]).toEqual([400, 'ECS_BAD_REQUEST']);
    expect(running.body.message).toMatch(/status/);
    expect(await workloadCount()).toBe(workloads);

    const suspendedTenant = await call('POST', '/v1/tenants', {
      id: uniqueId('conf'),
      authority_binding: 'auth-dev-001',
      jurisdiction: 'DE',
      policy_baseline: 'ecs-baseline-v1',
      status: 'suspended',
    });
    expect([suspendedTenant.status, suspendedTenant.body.message]).toEqual([400, expect.stringMatching(/a new tenant is active/)]);
  });

  it('takes a PATCH with the whole skeleton Tenant (status repeated) and never changes status through it', async () => {
    const whole = {
      id: tenant,
      authority_binding: 'auth-dev-001',
      jurisdiction: 'DE',
      classification_ceiling: 'secret',
      policy_baseline: 'ecs-baseline-v1',
      status: 'active',
    };
    const patched = await call('PATCH', `/v1/tenants/${tenant}`, whole);
    expect([patched.status, patched.body.classification_ceiling, patched.body.status]).toEqual([200, 'secret', 'active']);
    const suspend = await call('PATCH', `/v1/tenants/${tenant}`, { ...whole, classification_ceiling: 'public', status: 'suspended' });
    expect([suspend.status, suspend.body.code]).toEqual([400, 'ECS_BAD_REQUEST']);
    // Nothing of the refused body was applied.
    expect((await call('GET', `/v1/tenants/${tenant}`)).body).toMatchObject({ status: 'active', classification_ceiling: 'secret' });
  });

  it('derives a public-ceiling tenant’s workload classification from the ceiling', async () => {
    const open = uniqueId('conf');
    expect(
      (
        await call('POST', '/v1/tenants', {
          id: open,
          authority_binding: 'auth-dev-001',
          jurisdiction: 'FR',
          classification_ceiling: 'public',
          policy_baseline: 'ecs-baseline-v1',
        })
      ).status,
    ).toBe(201);
    const created = await call(
      'POST',
      '/v1/workloads',
      { tenant_id: open, envelope_type: 'container', image_ref: PINNED_IMAGE },
      await env.token('tenant-admin', open),
    );
    expect([created.status, created.body.classification, created.body.jurisdiction]).toEqual([201, 'public', 'FR']);
  });
});
