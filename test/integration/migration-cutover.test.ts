import { BASELINE_V1_TEXT } from '../../lib/policy/baseline-v1';
import { rest } from '../support/export-client';
import { governance, storageClient } from '../support/storage-client';
import { CREATE_TENANT, CREATE_WORKLOAD, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const EXPORTS = '/v1/migrations/exports';
const IMPORTS = '/v1/migrations/imports';
const PUBLISH = 'mutation($i: PublishPolicyBaselineInput!) { publishPolicyBaseline(input: $i) { current { id } } }';
const EVENTS = `query($f: EventFilter) { events(filter: $f, first: 1000) {
  items { sequence eventType outcome evidencePointer refusalReasonCode authoritySnapshotId policySnapshotId details }
} }`;
const WORKLOADS = 'query($id: ID!) { tenant(id: $id) { workloads { id status imageRef envelopeType classification jurisdiction } } }';

interface ChainEvent {
  sequence: number;
  eventType: string;
  outcome: string;
  evidencePointer: string;
  refusalReasonCode: string | null;
  authoritySnapshotId: string | null;
  policySnapshotId: string | null;
  details: Record<string, unknown>;
}

interface Workload {
  id: string;
  status: string;
  imageRef: string;
  envelopeType: string;
  classification: string;
  jurisdiction: string;
}

/** The registry the target's later policy no longer allows. */
const DROPPED_REGISTRY_IMAGE = `registry.example.eu/app@sha256:${'ab'.repeat(32)}`;
const KEPT_REGISTRY_IMAGE = `harbor.ecs.example.eu/app@sha256:${'cd'.repeat(32)}`;

/** The governance headers a GET answers with, which must survive the move unchanged. */
const GOVERNANCE_HEADERS = [
  'content-type',
  'etag',
  'x-eosc-version-id',
  'x-eosc-jurisdiction',
  'x-eosc-classification',
  'x-eosc-retention-ttl',
  'x-eosc-retention-until',
  'x-eosc-integrity',
  'x-eosc-legal-hold',
  'x-eosc-lock-mode',
  'x-eosc-evidence-pointer',
  'x-eosc-data-product-id',
  'x-eosc-usage-policy-snapshot-id',
  'x-eosc-consent-token-ref',
];

async function chainOf(env: TestStack, tenantId: string): Promise<ChainEvent[]> {
  const result = await env.gql<{ events: { items: ChainEvent[] } }>(EVENTS, { f: { tenantId } });
  expect(result.errors).toBeUndefined();
  return result.data!.events.items;
}

async function workloadsOf(env: TestStack, tenantId: string): Promise<Workload[]> {
  const result = await env.gql<{ tenant: { workloads: Workload[] } }>(WORKLOADS, { id: tenantId });
  expect(result.errors).toBeUndefined();
  return [...result.data!.tenant.workloads].sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * A tenant moved between two running deployments (docs/migration.md): a versioned bucket
 * (several versions, a delete marker, a legal hold, a retention), two workloads and a refused
 * action on the source; pulled, materialised and activated on the target, where a policy
 * changed since refuses one workload. Every object version's bytes and governance metadata
 * arrive unchanged, the target's chain links to the source's head, and each step repeated
 * changes nothing.
 */
describe('tenant migration: import, activation and rollback between two deployments', () => {
  let source: TestStack;
  let target: TestStack;
  const tenant = uniqueId('mig');
  const baseline = uniqueId('mig-baseline');
  let bucket: string;
  let dropped: string;
  let kept: string;
  const versions: Array<{ key: string; versionId: string; body: Buffer | null }> = [];
  let importId: string;
  let report: Record<string, unknown>;

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startTestStack({ env: { PROVIDER_ID: 'provider-a' } }),
      startTestStack({ env: { PROVIDER_ID: 'provider-b' } }),
    ]);
    // The same baseline on both sides: the same text is the same snapshot id.
    for (const env of [source, target])
      expect((await env.gql(PUBLISH, { i: { name: baseline, text: BASELINE_V1_TEXT } })).errors).toBeUndefined();
    expect(
      (await source.gql(CREATE_TENANT, { input: tenantInput(tenant, { policyBaseline: baseline, classificationCeiling: 'restricted' }) }))
        .errors,
    ).toBeUndefined();
    const deploy = async (imageRef: string) => {
      const created = await source.gql<{ createWorkload: { id: string } }>(CREATE_WORKLOAD, {
        input: { tenantId: tenant, envelopeType: 'container', imageRef, jurisdiction: 'DE' },
      });
      expect(created.errors).toBeUndefined();
      return created.data!.createWorkload.id;
    };
    dropped = await deploy(DROPPED_REGISTRY_IMAGE);
    kept = await deploy(KEPT_REGISTRY_IMAGE);

    const client = storageClient(source, await source.token('tenant-admin', tenant));
    bucket = await client.createBucket(tenant, { versioning: true });
    const put = async (key: string, text: string, overrides: Record<string, string> = {}) => {
      const body = Buffer.from(text);
      const answer = await client.put(bucket, key, body, governance(body, overrides));
      expect([answer.status, answer.json]).toEqual([201, expect.anything()]);
      versions.push({ key, versionId: String(answer.headers['x-eosc-version-id']), body });
    };
    await put('a.txt', 'the first version of a');
    await put('a.txt', 'the second version of a, kept a day', { 'x-eosc-retention-ttl': 'P1D', 'x-eosc-classification': 'public' });
    await put('held.txt', 'under legal hold');
    expect((await client.control('PUT', bucket, 'held.txt', '?legal_hold', { status: 'ON' })).status).toBe(200);
    await put('gone.txt', 'deleted before the move');
    const deleted = await client.get(bucket, 'gone.txt', { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    versions.push({ key: 'gone.txt', versionId: String(deleted.headers['x-eosc-version-id']), body: null });
    // A refused action: an integrity the bytes do not have.
    const wrong = Buffer.from('not what was declared');
    const refused = await client.put(bucket, 'wrong.txt', wrong, governance(Buffer.from('something else')));
    expect(refused.status).toBe(400);

    const requested = await rest(source, source.adminToken, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'full' });
    expect(requested.status).toBe(202);
    const exportId = String(requested.json.id);
    const deadline = Date.now() + 60_000;
    while ((await rest(source, source.adminToken, 'GET', `${EXPORTS}/${exportId}`)).json.state !== 'completed') {
      if (Date.now() > deadline) throw new Error(`export ${exportId} did not complete`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const pulled = await rest(target, target.adminToken, 'POST', IMPORTS, {
      source_url: `${source.url}${EXPORTS}/${exportId}/package`,
      source_token: source.adminToken,
      source_jwks_url: `${source.url}/.well-known/jwks.json`,
    });
    expect([
      pulled.status,
      JSON.stringify((pulled.json.gates as Array<{ result: string }>).filter((gate) => gate.result === 'fail')),
    ]).toEqual([201, '[]']);
    report = pulled.json;
    importId = String(report.import_id);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('makes the tenant importing on the target, with every object version’s bytes and governance metadata as on the source', async () => {
    expect(report).toMatchObject({
      status: 'imported',
      tenant_id: tenant,
      counts: { buckets: 1, object_versions: versions.length, workloads: 2 },
    });
    const facts = ['authority_binding', 'jurisdiction', 'classification_ceiling', 'policy_baseline', 'created_at'];
    const here = await rest(target, target.adminToken, 'GET', `/v1/tenants/${tenant}`);
    const there = await rest(source, source.adminToken, 'GET', `/v1/tenants/${tenant}`);
    expect(here.json.status).toBe('importing');
    for (const fact of facts) expect([fact, here.json[fact]]).toEqual([fact, there.json[fact]]);

    const fromSource = storageClient(source, source.adminToken);
    const fromTarget = storageClient(target, target.adminToken);
    for (const version of versions) {
      const query = `?version_id=${version.versionId}`;
      const original = await fromSource.get(bucket, version.key, { query });
      const copy = await fromTarget.get(bucket, version.key, { query, method: version.body ? 'GET' : 'HEAD' });
      if (!version.body) {
        // A delete marker is no object on either side.
        expect([original.status, copy.status]).toEqual([404, 404]);
        continue;
      }
      // An importing tenant's objects are not read yet (reads are governed): HEAD answers the metadata.
      expect(copy.status).toBe(403);
      const head = await fromTarget.get(bucket, version.key, { query, method: 'HEAD' });
      expect(original.body.equals(version.body)).toBe(true);
      for (const name of GOVERNANCE_HEADERS) expect([name, head.headers[name]]).toEqual([name, original.headers[name]]);
      expect(head.headers['x-eosc-origin']).toBe('import');
    }
    const listed = async (env: TestStack) =>
      (await storageClient(env, env.adminToken).call('GET', `${env.url}/v1/storage/${bucket}/objects?versions`)).json;
    // The listing of every version is the same, but for how each version came to be here.
    const listedHere = (await listed(target)).versions as Array<Record<string, unknown>>;
    const listedThere = (await listed(source)).versions as Array<Record<string, unknown>>;
    expect(listedHere.map((item) => item.origin)).toEqual(listedThere.map(() => 'import'));
    expect(listedHere.map((item) => ({ ...item, origin: 'put' }))).toEqual(listedThere);
    expect(await workloadsOf(target, tenant)).toEqual(await workloadsOf(source, tenant));
  });

  it('starts the tenant’s chain on the target with migration.import, linked to the source chain’s head', async () => {
    const sourceChain = await chainOf(source, tenant);
    const [first, ...rest] = await chainOf(target, tenant);
    expect(first).toMatchObject({
      sequence: 1,
      eventType: 'migration.import',
      outcome: 'accepted',
      evidencePointer: report.import_evidence_pointer,
      authoritySnapshotId: expect.stringMatching(/^authsnap:/),
      policySnapshotId: sourceChain.find((event) => event.eventType === 'migration.export.plan')!.policySnapshotId,
      details: {
        import_id: importId,
        source_provider: 'provider-a',
        source_chain_id: `ecs:tenant:${tenant}`,
        source_head_sequence: report.source_head_sequence,
        source_head_hash: report.source_head_hash,
        package_digest: report.package_digest,
      },
    });
    // The head it names is the source's event of the export's start (the nested bundle ends there).
    const head = sourceChain.find((event) => event.sequence === report.source_head_sequence)!;
    expect(head.eventType).toBe('migration.export.start');
    expect(rest.filter((event) => event.eventType.startsWith('migration.'))).toEqual([]);
  });

  it('activates under the target’s policy in force: a workload it no longer allows is refused with evidence and failed, the rest runs', async () => {
    // Since the import, the target narrowed the baseline's registries.
    const narrowed = BASELINE_V1_TEXT.replace('"registry.example.eu", ', '');
    const published = await target.gql<{ publishPolicyBaseline: { current: { id: string } } }>(PUBLISH, {
      i: { name: baseline, text: narrowed },
    });
    expect(published.errors).toBeUndefined();
    const policy = published.data!.publishPolicyBaseline.current.id;

    const activated = await rest(target, target.adminToken, 'POST', `${IMPORTS}/${importId}/activate`);
    expect(activated.status).toBe(200);
    expect(activated.json).toMatchObject({
      status: 'active',
      activation_evidence_pointer: expect.stringMatching(/^eosc:/),
      workloads_refused: [{ workload_id: dropped, reason_code: 'registry_not_allowed', evidence_pointer: expect.stringMatching(/^eosc:/) }],
    });
    const statuses = Object.fromEntries((await workloadsOf(target, tenant)).map((workload) => [workload.id, workload.status]));
    expect(statuses).toEqual({ [dropped]: 'failed', [kept]: 'admitted' });
    const chain = await chainOf(target, tenant);
    const refusal = chain.find((event) => event.eventType === 'workload.refuse')!;
    expect(refusal).toMatchObject({
      outcome: 'refused',
      refusalReasonCode: 'registry_not_allowed',
      policySnapshotId: policy,
      evidencePointer: (activated.json.workloads_refused as Array<{ evidence_pointer: string }>)[0]!.evidence_pointer,
      details: { workload_id: dropped, migration_import_id: importId },
    });
    expect(chain.at(-1)).toMatchObject({
      eventType: 'migration.activate',
      evidencePointer: activated.json.activation_evidence_pointer,
      policySnapshotId: policy,
      details: { import_id: importId, workloads_admitted: 1 },
    });
    expect((await rest(target, target.adminToken, 'GET', `/v1/tenants/${tenant}`)).json.status).toBe('active');

    // Again: the same answer, no new event.
    const again = await rest(target, target.adminToken, 'POST', `${IMPORTS}/${importId}/activate`);
    expect(again.json).toEqual(activated.json);
    expect(await chainOf(target, tenant)).toHaveLength(chain.length);
    // Nothing has happened since activation, so the import can still be rolled back; reading an object is an action.
    const read = await storageClient(target, target.adminToken).get(bucket, 'held.txt');
    expect(read.status).toBe(200);
    expect(read.body.toString()).toBe('under legal hold');
    const late = await rest(target, target.adminToken, 'POST', `${IMPORTS}/${importId}/rollback`);
    expect([late.status, late.json.code]).toEqual([409, 'ECS_CONFLICT']);
    expect(String(late.json.message)).toContain('has acted here since its activation');
  });

  it('only a platform administrator activates or rolls back an import; a refused or unknown import has no step', async () => {
    const tenantAdmin = await target.token('tenant-admin', tenant);
    for (const step of ['activate', 'rollback']) {
      const forbidden = await rest(target, tenantAdmin, 'POST', `${IMPORTS}/${importId}/${step}`);
      expect([forbidden.status, forbidden.json.code]).toEqual([403, 'ECS_FORBIDDEN']);
      expect(forbidden.json.evidence_pointer).toMatch(/^eosc:/);
      const unknown = await rest(target, target.adminToken, 'POST', `${IMPORTS}/mim-00000000-0000-0000-0000-000000000000/${step}`);
      expect([unknown.status, unknown.json.code]).toEqual([404, 'ECS_NOT_FOUND']);
    }
    const badBody = await rest(target, target.adminToken, 'POST', `${IMPORTS}/${importId}/rollback`, { reason: 'x'.repeat(501) });
    expect([badBody.status, badBody.json.code]).toEqual([400, 'ECS_VALIDATION_FAILED']);
  });
});
