import { rest } from '../support/export-client';
import { startTestStack } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

type Json = Record<string, any>;

async function claimsOf(env: TestStack): Promise<Json> {
  const response = await rest(env, await env.token('reader', 'some-tenant'), 'GET', '/v1/federation/claims');
  if (response.status !== 200) throw new Error(JSON.stringify(response.json));
  return response.json;
}

describe('GET /v1/federation/claims', () => {
  let defaults: TestStack;
  let tuned: TestStack;

  beforeAll(async () => {
    defaults = await startTestStack();
    tuned = await startTestStack({
      env: {
        MAX_OBJECT_BYTES: '1048576',
        EXPORT_MAX_EVENTS: '5000',
        EXPORTS_PER_PRINCIPAL: '7',
        PROVIDER_ID: 'sovereign-cloud-eu',
        OIDC_JURISDICTION_CLAIM: 'eu_jurisdiction',
        OIDC_CLOCK_SKEW_S: '5',
        API_SUNSET: '2099-01-01',
      },
    });
    // Two whole stacks start here, one after the other: twice a suite's usual start-up.
  }, 120_000);
  afterAll(async () => {
    await Promise.all([defaults?.stop(), tuned?.stop()]);
  });

  it('describes versions, identity, evidence, storage and enforcement', async () => {
    const claims = await claimsOf(defaults);
    expect(claims).toMatchObject({
      claims_version: '1.0',
      api: {
        versions: [{ version: 'v1', base_path: '/v1', status: 'current' }],
        deprecated: { paths: ['/tenants', '/workloads', '/events'] },
      },
      identity: {
        claim_mappings: { roles: 'roles', tenant: 'tenant_id', jurisdiction: 'jurisdiction' },
        accepted_issuers: [expect.objectContaining({ kind: 'development', production_use: false })],
        api_keys: { supported: true, tenant_scoped: true },
      },
      transport: { service_to_service: { mtls: true, gateway_client_common_name: 'ecs-gateway' } },
      evidence: {
        evidence_profiles: ['ecs-evidence-baseline', 'ecs-evidence-admissible', 'ecs-evidence-ncp'],
        hash_profiles: ['ecs-hash-v1'],
        export_endpoints: expect.arrayContaining(['/v1/exports', '/v1/exports/{id}', '/v1/exports/{id}/bundle', '/v1/events']),
        exports: { max_events_per_export: 10_000_000, exports_per_principal: 2 },
      },
      storage: {
        classes: expect.arrayContaining([
          expect.objectContaining({ class: 'object', supported: true, max_object_bytes: 5 * 1024 ** 3 }),
          { class: 'block', supported: false },
        ]),
      },
      policy_enforcement: { admission: { enforced: true, engine: 'cedar' }, egress: { enforced: false } },
    });
    expect(claims.api.paths).toEqual(
      expect.arrayContaining(['POST /v1/exports', 'GET /v1/federation/claims', 'POST /v1/ncp/declarations']),
    );
  });

  it('follows the running configuration: a changed setting shows in the claims', async () => {
    const [before, after] = [await claimsOf(defaults), await claimsOf(tuned)];
    expect(after).toMatchObject({
      provider_id: 'sovereign-cloud-eu',
      api: { deprecated: { sunset: '2099-01-01' } },
      identity: { claim_mappings: { roles: 'roles', jurisdiction: 'eu_jurisdiction' }, clock_skew_seconds: 5 },
      evidence: { exports: { max_events_per_export: 5000, exports_per_principal: 7, provider_id: 'sovereign-cloud-eu' } },
      storage: { portability: { limits: { max_object_bytes: 1048576, max_events_per_export: 5000 } } },
    });
    expect(after.storage.classes[0].max_object_bytes).toBe(1048576);
    expect(before.provider_id).toBe('ecs-provider');
    expect(before.identity).toMatchObject({ claim_mappings: { jurisdiction: 'jurisdiction' }, clock_skew_seconds: 30 });
  });

  it('needs credentials, like every /v1 path but the OpenAPI document', async () => {
    expect((await rest(defaults, undefined, 'GET', '/v1/federation/claims')).status).toBe(401);
  });
});
