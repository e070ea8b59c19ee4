import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { DEFAULT_LIMITS } from '../../lib/bundle/bundle';
import { readTarGz } from '../../lib/bundle/tar-reader';
import { makeTempDir } from '../../testkit/temp-dir';
import { packDirectory } from '../support/bundle-writer/pack-directory';
import { importTarget } from '../../app/migration/import-target';
import type { ImportedFacts } from '../../lib/migration/import-facts';
import { targetGates } from '../../lib/migration/import-gates';
import type { PackageManifest } from '../../lib/migration/package-manifest';
import { ecsWithEnv, rest } from '../support/export-client';
import { governance, storageClient } from '../support/storage-client';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const EXPORTS = '/v1/migrations/exports';
const IMPORTS = '/v1/migrations/imports';
const GATES = [
  'signature',
  'integrity',
  'evidence_bundle',
  'jurisdiction',
  'classification',
  'policy_baseline',
  'authority_binding',
  'id_clash',
];

interface Gate {
  gate: string;
  result: 'pass' | 'fail';
  reason: string;
}

const PLATFORM_EVENTS = `query($f: EventFilter) { events(filter: $f, first: 1000) {
  items { eventType outcome evidencePointer refusalReasonClass refusalReasonCode authoritySnapshotId policySnapshotId details }
} }`;

interface PlatformEvent {
  eventType: string;
  outcome: string;
  evidencePointer: string;
  refusalReasonClass: string | null;
  refusalReasonCode: string | null;
  authoritySnapshotId: string | null;
  policySnapshotId: string | null;
  details: Record<string, unknown>;
}

/** The migration import events of a deployment's platform chain. */
async function importEvents(env: TestStack): Promise<PlatformEvent[]> {
  const result = await env.gql<{ events: { items: PlatformEvent[] } }>(PLATFORM_EVENTS, {
    f: { tenantId: '_platform', eventTypes: ['migration.import.validate', 'migration.import.refuse'] },
  });
  expect(result.errors).toBeUndefined();
  return result.data!.events.items;
}

/**
 * Import validation (docs/migration.md) between real deployments: `source` exports; `target`
 * is a clean second deployment. The source serves only FR imports (MIGRATION_JURISDICTIONS),
 * so importing its own DE tenant back is refused at the jurisdiction gate, and its own FR
 * tenant at the id-clash gate alone: two stacks for every case.
 */
describe('tenant import validation (POST /v1/migrations/imports, GET .../{id})', () => {
  let source: TestStack;
  let target: TestStack;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let tenant: string;
  let frTenant: string;
  let packageFile: string;
  let frPackageFile: string;
  const jwksOf = (env: TestStack) => `${env.url}/.well-known/jwks.json`;

  let packageUrl: string;

  async function exportTenant(env: TestStack, tenantId: string, scenario: string): Promise<string> {
    return (await exportTenantWithId(env, tenantId, scenario)).file;
  }

  async function exportTenantWithId(env: TestStack, tenantId: string, scenario: string): Promise<{ id: string; file: string }> {
    const requested = await rest(env, env.adminToken, 'POST', EXPORTS, { tenant_id: tenantId, scenario });
    expect(requested.status).toBe(202);
    const id = String(requested.json.id);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const polled = await rest(env, env.adminToken, 'GET', `${EXPORTS}/${id}`);
      if (polled.json.state === 'completed') break;
      if (polled.json.state === 'failed' || Date.now() > deadline) throw new Error(`export ${id}: ${JSON.stringify(polled.json)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const file = path.join(temp.path, `${id}.tar.gz`);
    const response = await request(`${env.url}${EXPORTS}/${id}/package`, { headers: { authorization: `Bearer ${env.adminToken}` } });
    expect(response.statusCode).toBe(200);
    await pipeline(response.body, createWriteStream(file));
    return { id, file };
  }

  async function upload(
    env: TestStack,
    file: string,
    jwksUrl: string | undefined,
    token = env.adminToken,
  ): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
    const query = jwksUrl === undefined ? '' : `?source_jwks_url=${encodeURIComponent(jwksUrl)}`;
    const response = await request(`${env.url}${IMPORTS}${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/gzip', 'content-length': String((await stat(file)).size) },
      body: createReadStream(file),
    });
    return { status: response.statusCode, headers: response.headers, json: (await response.body.json()) as Record<string, unknown> };
  }

  const gatesOf = (json: Record<string, unknown>) => json.gates as Gate[];
  const failedGates = (json: Record<string, unknown>) =>
    gatesOf(json)
      .filter((gate) => gate.result === 'fail')
      .map((gate) => gate.gate);

  /** Only the report of a refused import is kept: no package, no working files. */
  async function keptOf(env: TestStack, id: string): Promise<string[]> {
    return (await readdir(path.join(env.dataDir, 'migration-imports'))).filter((name) => name.startsWith(id)).sort();
  }

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startTestStack({ env: { PROVIDER_ID: 'provider-source', MIGRATION_JURISDICTIONS: 'FR' } }),
      startTestStack({ env: { PROVIDER_ID: 'provider-target' } }),
    ]);
    temp = await makeTempDir('ecs-migration-import-');
    tenant = uniqueId('imp');
    frTenant = uniqueId('impfr');
    expect((await source.gql(CREATE_TENANT, { input: tenantInput(tenant, { classificationCeiling: 'internal' }) })).errors).toBeUndefined();
    expect((await source.gql(CREATE_TENANT, { input: tenantInput(frTenant, { jurisdiction: 'FR' }) })).errors).toBeUndefined();
    const workload = { tenantId: tenant, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' };
    expect((await source.gql(CREATE_WORKLOAD, { input: workload })).errors).toBeUndefined();
    const client = storageClient(source, await source.token('tenant-admin', tenant));
    const bucket = await client.createBucket(tenant, { versioning: true });
    const body = Buffer.from('an object that moves with its tenant');
    expect((await client.put(bucket, 'a.txt', body, governance(body))).status).toBe(201);
    const [exported, frExported] = await Promise.all([exportTenantWithId(source, tenant, 'full'), exportTenant(source, frTenant, 'full')]);
    packageFile = exported.file;
    frPackageFile = frExported;
    packageUrl = `${source.url}${EXPORTS}/${exported.id}/package`;
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    await temp?.remove();
  });

  it('a clean target validates the package with every gate passing, makes the tenant importing with its chain linked to the source, and a rollback removes it', async () => {
    const answer = await upload(target, packageFile, jwksOf(source));
    expect(answer.status).toBe(201);
    const id = String(answer.json.import_id);
    expect(answer.headers.location).toBe(`${IMPORTS}/${id}`);
    expect(gatesOf(answer.json).map((gate) => gate.gate)).toEqual(GATES);
    expect(gatesOf(answer.json).filter((gate) => gate.result !== 'pass')).toEqual([]);
    expect(answer.json).toMatchObject({
      status: 'imported',
      tenant_id: tenant,
      import_evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
      counts: { buckets: 1, object_versions: 1, workloads: 1, bytes: 36 },
      source_provider: 'provider-source',
      source_tenant_id: tenant,
      source_chain_id: `ecs:tenant:${tenant}`,
      source_head_sequence: expect.any(Number),
      source_head_hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
    });
    const report = await rest(target, target.adminToken, 'GET', `${IMPORTS}/${id}`);
    expect(report.status).toBe(200);
    expect(report.json).toEqual(answer.json);
    expect(await keptOf(target, id)).toEqual([`${id}.json`, `${id}.source-evidence.tar.gz`, `${id}.tar.gz`]);

    const event = (await importEvents(target)).find((candidate) => candidate.details.import_id === id)!;
    expect(event).toMatchObject({
      eventType: 'migration.import.validate',
      outcome: 'accepted',
      evidencePointer: answer.json.evidence_pointer,
      authoritySnapshotId: expect.stringMatching(/^authsnap:/),
      policySnapshotId: expect.stringMatching(/^polsnap:/),
      details: {
        source_tenant_id: tenant,
        source_chain_id: `ecs:tenant:${tenant}`,
        source_head_sequence: answer.json.source_head_sequence,
        source_head_hash: answer.json.source_head_hash,
        failed_gates: [],
      },
    });
    // The tenant exists as importing; its chain here starts with the link to the source chain's head.
    const made = await rest(target, target.adminToken, 'GET', `/v1/tenants/${tenant}`);
    expect(made.json).toMatchObject({ id: tenant, status: 'importing' });
    const chain = await target.gql<{ events: { items: PlatformEvent[] } }>(PLATFORM_EVENTS, { f: { tenantId: tenant } });
    expect(chain.data!.events.items[0]).toMatchObject({
      eventType: 'migration.import',
      outcome: 'accepted',
      evidencePointer: answer.json.import_evidence_pointer,
      details: {
        import_id: id,
        source_chain_id: `ecs:tenant:${tenant}`,
        source_head_sequence: answer.json.source_head_sequence,
        source_head_hash: answer.json.source_head_hash,
      },
    });
    // An importing tenant runs no governed action.
    const workload = { tenantId: tenant, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' };
    const refused = await target.gql(CREATE_WORKLOAD, { input: workload });
    expect(refused.errors?.[0]?.message).toContain('is being imported');

    // Rolled back: the tenant goes, the chain keeps the import and its rollback; again changes nothing.
    const rolledBack = await rest(target, target.adminToken, 'POST', `${IMPORTS}/${id}/rollback`, { reason: 'test' });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.json).toMatchObject({ status: 'rolled_back', rollback_evidence_pointer: expect.stringMatching(/^eosc:/) });
    expect((await rest(target, target.adminToken, 'POST', `${IMPORTS}/${id}/rollback`)).json).toEqual(rolledBack.json);
    expect((await rest(target, target.adminToken, 'GET', `/v1/tenants/${tenant}`)).status).toBe(404);
    expect(await keptOf(target, id)).toEqual([`${id}.json`]);
    const after = await target.gql<{ events: { items: PlatformEvent[] } }>(PLATFORM_EVENTS, { f: { tenantId: tenant } });
    // The refused admission above is in the chain too, between the two.
    expect(after.data!.events.items.map((event) => event.eventType)).toEqual(['migration.import', 'workload.refuse', 'migration.rollback']);
    expect(after.data!.events.items[1]).toMatchObject({ outcome: 'refused', refusalReasonCode: 'tenant_importing' });
    expect(after.data!.events.items[2]!.authoritySnapshotId).toMatch(/^authsnap:/);
    expect(after.data!.events.items[2]!.details).toMatchObject({
      import_id: id,
      side: 'target',
      removed: { buckets: 1, object_versions: 1, workloads: 1 },
    });
    const activate = await rest(target, target.adminToken, 'POST', `${IMPORTS}/${id}/activate`);
    expect([activate.status, activate.json.code]).toEqual([409, 'ECS_CONFLICT']);

    // On the source, the hand-over of the package (the download in beforeAll) is evidenced.
    const sourceChain = await source.gql<{ events: { items: PlatformEvent[] } }>(PLATFORM_EVENTS, { f: { tenantId: tenant } });
    const transfers = sourceChain.data!.events.items.filter((event) => event.eventType === 'migration.export.transfer');
    expect(transfers.length).toBeGreaterThanOrEqual(1);
    expect(transfers[0]).toMatchObject({
      outcome: 'accepted',
      policySnapshotId: expect.stringMatching(/^polsnap:/),
      details: { bytes_sent: (await stat(packageFile)).size, package_digest: answer.json.package_digest },
    });
  });

  it('refuses a package with one byte changed at the integrity gate, and one checked against another deployment’s keys at the signature gate', async () => {
    const files = await readTarGz(packageFile, DEFAULT_LIMITS);
    const dir = path.join(temp.path, 'tampered');
    for (const [name, bytes] of files) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      const copy = Buffer.from(bytes);
      if (name.startsWith('objects/')) copy[0]! ^= 0x01;
      await writeFile(path.join(dir, name), copy);
    }
    const tampered = path.join(temp.path, 'tampered.tar.gz');
    await packDirectory(dir, createWriteStream(tampered));

    const broken = await upload(target, tampered, jwksOf(source));
    expect(broken.status).toBe(200);
    expect(broken.json.status).toBe('refused');
    expect(failedGates(broken.json)).toEqual(['integrity']);
    expect(gatesOf(broken.json).find((gate) => gate.gate === 'integrity')!.reason).toMatch(/^integrity: objects\/.* hashes to/);
    const brokenId = String(broken.json.import_id);
    expect(await keptOf(target, brokenId)).toEqual([`${brokenId}.json`]);

    const stranger = await upload(target, packageFile, jwksOf(target));
    expect(stranger.status).toBe(200);
    expect(failedGates(stranger.json)).toEqual(expect.arrayContaining(['signature']));
    expect(failedGates(stranger.json)).not.toContain('integrity');
    expect(gatesOf(stranger.json)[0]!.reason).toMatch(/no key .* in the JWKS/);

    const events = await importEvents(target);
    for (const [answer, gate] of [
      [broken, 'integrity'],
      [stranger, 'signature'],
    ] as const) {
      const event = events.find((candidate) => candidate.details.import_id === answer.json.import_id)!;
      expect(event).toMatchObject({
        eventType: 'migration.import.validate',
        outcome: 'refused',
        evidencePointer: answer.json.evidence_pointer,
        refusalReasonClass: 'evidence_precondition_failed',
        refusalReasonCode: `${gate}_gate_failed`,
        details: { source_tenant_id: tenant, source_chain_id: `ecs:tenant:${tenant}` },
      });
      expect((event.details.failed_gates as Gate[]).map((failed) => failed.gate)).toContain(gate);
    }
  });

  it('refuses at the id gate ids this deployment could not have made: a malformed tenant id, bucket name or workload id, or a tenant.json that names another tenant', async () => {
    const here = importTarget(target.stack.services.db, undefined);
    const facts = (tenantId: string, overrides: Partial<ImportedFacts> = {}): ImportedFacts => ({
      manifest: { tenant_id: tenantId, contents: [] } as unknown as PackageManifest,
      tenant: { id: tenantId },
      authoritySnapshot: undefined,
      policySnapshot: undefined,
      buckets: [{ name: 'fine-bucket' }],
      workloads: [{ id: 'w-1' }],
      ...overrides,
    });
    const idGate = async (candidate: ImportedFacts) => (await targetGates(candidate, here)).find((gate) => gate.gate === 'id_clash')!;
    expect(await idGate(facts(uniqueId('fresh')))).toMatchObject({ result: 'pass' });
    expect(await idGate(facts('Bad Tenant\u0007'))).toMatchObject({
      result: 'fail',
      reason: expect.stringContaining('is not well-formed'),
    });
    expect(await idGate(facts('ok-tenant', { tenant: { id: 'other-tenant' } }))).toMatchObject({
      result: 'fail',
      reason: expect.stringContaining('tenant.json names "other-tenant"'),
    });
    expect(await idGate(facts('ok-tenant', { buckets: [{ name: '../up' }] }))).toMatchObject({
      result: 'fail',
      reason: expect.stringContaining('bucket name "../up"'),
    });
    expect(await idGate(facts('ok-tenant', { workloads: [{ id: 'w 1; drop' }] }))).toMatchObject({
      result: 'fail',
      reason: expect.stringContaining('workload id "w 1; drop"'),
    });
  });

  it('refuses a DE tenant on a deployment serving only FR at the jurisdiction gate, and a tenant whose ids exist at the id-clash gate', async () => {
    const de = await upload(source, packageFile, jwksOf(source));
    expect(de.status).toBe(200);
    expect(failedGates(de.json)).toEqual(['jurisdiction', 'id_clash']);
    expect(gatesOf(de.json).find((gate) => gate.gate === 'jurisdiction')!.reason).toContain(
      'bound to DE, which this deployment does not serve (FR)',
    );

    const fr = await upload(source, frPackageFile, jwksOf(source));
    expect(fr.status).toBe(200);
    expect(failedGates(fr.json)).toEqual(['id_clash']);
    expect(gatesOf(fr.json).find((gate) => gate.gate === 'id_clash')!.reason).toContain(`tenant ${frTenant} exists`);

    const events = await importEvents(source);
    expect(events.find((event) => event.details.import_id === de.json.import_id)).toMatchObject({
      outcome: 'refused',
      refusalReasonClass: 'jurisdiction_denied',
      refusalReasonCode: 'jurisdiction_gate_failed',
    });
    expect(events.find((event) => event.details.import_id === fr.json.import_id)).toMatchObject({
      outcome: 'refused',
      refusalReasonCode: 'id_clash_gate_failed',
      details: { source_tenant_id: frTenant },
    });
    expect(existsSync(path.join(source.dataDir, 'migration-imports', `${String(fr.json.import_id)}.tar.gz`))).toBe(false);
  });

  it('only a platform administrator may import: others get 403 with evidence; a request without the source’s keys is 400 with evidence', async () => {
    const tenantAdmin = await target.token('tenant-admin', tenant);
    const forbidden = await upload(target, packageFile, jwksOf(source), tenantAdmin);
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toMatchObject({
      code: 'ECS_FORBIDDEN',
      message: expect.any(String),
      evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
    });
    const missing = await upload(target, packageFile, undefined);
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ code: 'ECS_VALIDATION_FAILED', evidence_pointer: expect.any(String) });
    const json = await request(`${target.url}${IMPORTS}?source_jwks_url=${encodeURIComponent(jwksOf(source))}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.adminToken}`, 'content-type': 'text/plain' },
      body: 'not a package',
    }).then(async (response) => ({ status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> }));
    expect(json.status).toBe(415);
    expect(json.json).toMatchObject({ code: 'ECS_UNSUPPORTED_MEDIA_TYPE', evidence_pointer: expect.any(String) });
    expect((await rest(target, tenantAdmin, 'GET', `${IMPORTS}/mim-00000000-0000-0000-0000-000000000000`)).status).toBe(403);
    expect((await rest(target, target.adminToken, 'GET', `${IMPORTS}/mim-00000000-0000-0000-0000-000000000000`)).json).toMatchObject({
      code: 'ECS_NOT_FOUND',
    });

    const refusals = (await importEvents(target)).filter((event) => event.eventType === 'migration.import.refuse');
    expect(refusals.map((event) => [event.refusalReasonCode, event.evidencePointer])).toEqual(
      expect.arrayContaining([
        ['role_not_permitted', forbidden.json.evidence_pointer],
        ['source_jwks_url_invalid', missing.json.evidence_pointer],
        ['package_media_type', json.json.evidence_pointer],
      ]),
    );
    const openApi = (await (await fetch(`${target.url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const documented of [IMPORTS, `${IMPORTS}/{id}`]) expect(openApi.paths).toHaveProperty([documented]);
  });

  it('pulls the package from the source with a bearer token (source_url), validates it the same way, and never keeps the token', async () => {
    const pull = (body: unknown) => rest(target, target.adminToken, 'POST', IMPORTS, body);
    const answer = await pull({ source_url: packageUrl, source_token: source.adminToken, source_jwks_url: jwksOf(source) });
    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({ status: 'imported', source_tenant_id: tenant, source_url: packageUrl });
    expect(gatesOf(answer.json).filter((gate) => gate.result !== 'pass')).toEqual([]);
    // The same bytes as the package downloaded by hand.
    const digest = createHash('sha256')
      .update(await readFile(packageFile))
      .digest('hex');
    expect(answer.json.package_digest).toBe(`sha256:${digest}`);
    const id = String(answer.json.import_id);
    expect(await keptOf(target, id)).toEqual([`${id}.json`, `${id}.source-evidence.tar.gz`, `${id}.tar.gz`]);
    const event = (await importEvents(target)).find((candidate) => candidate.details.import_id === id)!;
    expect(event.details).toMatchObject({ source_url: packageUrl });
    expect((await rest(target, target.adminToken, 'POST', `${IMPORTS}/${id}/rollback`)).json.status).toBe('rolled_back');
    const stored = await readFile(path.join(target.dataDir, 'migration-imports', `${id}.json`), 'utf8');
    for (const kept of [JSON.stringify(answer.json), JSON.stringify(event), stored]) expect(kept).not.toContain(source.adminToken);

    // The source refuses a wrong token: nothing is read, the refusal is evidenced with the source's answer.
    const refused = await pull({ source_url: packageUrl, source_token: 'not-a-token', source_jwks_url: jwksOf(source) });
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({
      code: 'ECS_DEPENDENCY_UNAVAILABLE',
      evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
    });
    expect(String(refused.json.message)).toContain('the source answered 401');
    // Not a package (a JSON document), and a bad request.
    const notPackage = await pull({ source_url: jwksOf(source), source_jwks_url: jwksOf(source) });
    expect([notPackage.status, notPackage.json.code]).toEqual([503, 'ECS_DEPENDENCY_UNAVAILABLE']);
    expect(String(notPackage.json.message)).toContain('not a package');
    const bad = await pull({ source_url: 'file:///etc/passwd', source_jwks_url: jwksOf(source) });
    expect([bad.status, bad.json.code]).toEqual([400, 'ECS_VALIDATION_FAILED']);
    const extra = await pull({ source_url: packageUrl, source_jwks_url: jwksOf(source), also: 1 });
    expect(extra.status).toBe(400);
    const refusals = (await importEvents(target)).filter((candidate) => candidate.eventType === 'migration.import.refuse');
    expect(refusals.map((candidate) => [candidate.refusalReasonCode, candidate.evidencePointer])).toEqual(
      expect.arrayContaining([
        ['source_package_unavailable', refused.json.evidence_pointer],
        ['pull_request_invalid', bad.json.evidence_pointer],
      ]),
    );
    for (const candidate of refusals) expect(JSON.stringify(candidate)).not.toContain('not-a-token');

    // Keys that are not there: the signature gate fails with the source's answer, and the gateway goes on.
    const noKeys = await upload(target, packageFile, `${source.url}/no-such-jwks.json`);
    expect(noKeys.status).toBe(200);
    expect(gatesOf(noKeys.json).find((gate) => gate.gate === 'signature')).toMatchObject({
      result: 'fail',
      reason: expect.stringContaining('404'),
    });
    expect((await fetch(`${target.url}/healthz`)).status).toBe(200);
  });

  it('ecs tenant export writes the package; ecs tenant import uploads or pulls it (0 imported, 1 refused, 2 wrong command line); rollback and activate run from the command line too', async () => {
    const file = path.join(temp.path, 'cli-export.tar.gz');
    const exported = await ecsWithEnv(
      { ECS_TOKEN: source.adminToken },
      ...['tenant', 'export', '--url', source.url, '--tenant', tenant, '--out', file, '--scenario', 'full'],
    );
    expect([exported.code, exported.stderr]).toEqual([0, expect.stringContaining(`written to ${file}`)]);
    const exportId = exported.stdout.trim();
    expect(exportId).toMatch(/^mex-/);
    expect(existsSync(`${file}.partial`)).toBe(false);

    const importArgs = ['tenant', 'import', '--url', target.url, '--source-jwks', jwksOf(source)];
    // The token as an option here; ECS_TOKEN below.
    const uploaded = await ecsWithEnv({ ECS_TOKEN: '' }, ...importArgs, '--package', file, '--token', target.adminToken);
    expect(uploaded.code).toBe(0);
    expect(uploaded.stdout).toMatch(/^mim-[0-9a-f-]{36}: imported\n/);
    expect(uploaded.stdout.match(/^ {2}pass {2}/gm)).toHaveLength(GATES.length);
    const uploadedId = uploaded.stdout.slice(0, 40);
    const rolledBack = await ecsWithEnv(
      { ECS_TOKEN: target.adminToken },
      'tenant',
      'rollback',
      '--url',
      target.url,
      '--import',
      uploadedId,
    );
    expect([rolledBack.code, rolledBack.stdout]).toEqual([0, expect.stringContaining(`${uploadedId}: rolled back`)]);

    const packageUrl = `${source.url}${EXPORTS}/${exportId}/package`;
    const pulled = await ecsWithEnv(
      { ECS_TOKEN: target.adminToken, ECS_SOURCE_TOKEN: source.adminToken },
      ...importArgs,
      '--source-url',
      packageUrl,
      '--json',
    );
    expect(pulled.code).toBe(0);
    expect(JSON.parse(pulled.stdout)).toMatchObject({ status: 'imported', source_url: packageUrl });
    const pulledId = String(JSON.parse(pulled.stdout).import_id);

    const wrongKeys = await ecsWithEnv(
      { ECS_TOKEN: target.adminToken },
      ...['tenant', 'import', '--url', target.url, '--source-jwks', jwksOf(target), '--package', file],
    );
    expect(wrongKeys.code).toBe(1);
    expect(wrongKeys.stdout).toContain('FAIL  signature');
    const notAdmin = await ecsWithEnv({ ECS_TOKEN: await target.token('tenant-admin', tenant) }, ...importArgs, '--package', file);
    expect([notAdmin.code, notAdmin.stderr]).toEqual([1, expect.stringContaining('403 ECS_FORBIDDEN')]);
    const noToken = await ecsWithEnv({ ECS_TOKEN: '' }, ...importArgs, '--package', file);
    expect([noToken.code, noToken.stderr]).toEqual([2, expect.stringContaining('ECS_TOKEN')]);
    const neither = await ecsWithEnv({ ECS_TOKEN: 'x' }, ...importArgs);
    expect([neither.code, neither.stderr]).toEqual([2, expect.stringContaining('one of --package and --source-url')]);
    const noUrl = await ecsWithEnv({ ECS_TOKEN: 'x' }, 'tenant', 'export', '--tenant', tenant, '--out', file);
    expect([noUrl.code, noUrl.stderr]).toEqual([2, expect.stringContaining('--url is required')]);
    const unknown = await ecsWithEnv({}, 'tenant', 'move');
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('unknown action "move"')]);
    const both = await ecsWithEnv(
      { ECS_TOKEN: 'x' },
      'tenant',
      'rollback',
      '--url',
      target.url,
      '--import',
      pulledId,
      '--export',
      pulledId,
    );
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('give one of --import')]);

    // Activated from the command line: the tenant is active on the target; a second run changes nothing.
    const activated = await ecsWithEnv({ ECS_TOKEN: target.adminToken }, 'tenant', 'activate', '--url', target.url, '--import', pulledId);
    expect([activated.code, activated.stdout]).toEqual([0, expect.stringContaining(`${pulledId}: active (tenant ${tenant})`)]);
    const again = await ecsWithEnv(
      { ECS_TOKEN: target.adminToken },
      'tenant',
      'activate',
      '--url',
      target.url,
      '--import',
      pulledId,
      '--json',
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'active', tenant_id: tenant, workloads_refused: [] });
    expect((await rest(target, target.adminToken, 'GET', `/v1/tenants/${tenant}`)).json).toMatchObject({ status: 'active' });
  });
});
