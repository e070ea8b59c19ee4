import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { JSONWebKeySet } from 'jose';
import { request } from 'undici';
import { DEFAULT_LIMITS } from '../../lib/bundle/bundle';
import { readTarGz } from '../../lib/bundle/tar-reader';
import { verifyBundlePath } from '../../lib/bundle/verify-bundle';
import { canonicalJson, sha256Digest } from '../../lib/evidence/canonical-json';
import type { PackageManifest } from '../../lib/migration/package-manifest';
import { verifyPackage } from '../../lib/migration/verify-package';
import { makeTempDir } from '../../testkit/temp-dir';
import { packDirectory } from '../support/bundle-writer/pack-directory';
import { chainEvents } from '../support/chain-events';
import { rest } from '../support/export-client';
import { blobPath, governance, storageClient } from '../support/storage-client';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const EXPORTS = '/v1/migrations/exports';

describe('tenant export packages (POST /v1/migrations/exports, GET .../{id}, GET .../{id}/package)', () => {
  let env: TestStack;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let tenant: string;
  let admin: string;
  let jwks: JSONWebKeySet;
  let bucket: string;
  let vmWorkload: string;
  let uploadId: string;
  const first = Buffer.from('first version of a');
  const second = Buffer.from('second version of a, longer');
  const held = Buffer.from('b is under legal hold');

  /** Requests an export as `token`, waits for it and downloads its package; returns the status and the file. */
  async function exportTenant(token: string, scenario: string): Promise<{ status: Record<string, unknown>; file: string }> {
    const requested = await rest(env, token, 'POST', EXPORTS, { tenant_id: tenant, scenario });
    expect(requested.status).toBe(202);
    const id = String(requested.json.id);
    expect(requested.headers.location).toBe(`${EXPORTS}/${id}`);
    expect(requested.json).toMatchObject({ tenant_id: tenant, scenario, state: 'queued' });
    const deadline = Date.now() + 60_000;
    let status: Record<string, unknown>;
    for (;;) {
      const polled = await rest(env, token, 'GET', `${EXPORTS}/${id}`);
      expect(polled.status).toBe(200);
      status = polled.json;
      if (status.state === 'completed' || status.state === 'failed') break;
      if (Date.now() > deadline) throw new Error(`migration export ${id} still ${String(status.state)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toMatchObject({ state: 'completed', error: null, package_url: `${EXPORTS}/${id}/package` });
    const file = path.join(temp.path, `${id}.tar.gz`);
    const response = await request(`${env.url}${EXPORTS}/${id}/package`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/gzip');
    await pipeline(response.body, createWriteStream(file));
    return { status, file };
  }

  const manifestOf = (files: Map<string, Buffer>): PackageManifest =>
    JSON.parse(files.get('manifest.json')!.toString('utf8')) as PackageManifest;

  beforeAll(async () => {
    env = await startTestStack({ env: { PROVIDER_ID: 'provider-source' } });
    temp = await makeTempDir('ecs-migration-export-');
    tenant = uniqueId('mig');
    admin = await env.token('tenant-admin', tenant);
    jwks = (await (await fetch(`${env.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;

    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant, { classificationCeiling: 'internal' }) })).errors).toBeUndefined();
    const workload = { tenantId: tenant, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' };
    expect((await env.gql(CREATE_WORKLOAD, { input: workload })).errors).toBeUndefined();
    const vm = await env.gql<{ createWorkload: { id: string } }>(CREATE_WORKLOAD, { input: { ...workload, envelopeType: 'vm' } });
    expect(vm.errors).toBeUndefined();
    vmWorkload = vm.data!.createWorkload.id;
    const refused = await env.gql(CREATE_WORKLOAD, { input: { ...workload, classification: 'secret' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('ECS_POLICY_DENIED');

    const client = storageClient(env, admin);
    bucket = await client.createBucket(tenant, { versioning: true });
    expect((await client.put(bucket, 'a.txt', first, governance(first))).status).toBe(201);
    expect((await client.put(bucket, 'a.txt', second, governance(second, { 'x-eosc-retention-ttl': 'P30D' }))).status).toBe(201);
    expect((await client.put(bucket, 'docs/b.txt', held, governance(held))).status).toBe(201);
    expect((await client.control('PUT', bucket, 'docs/b.txt', '?legal_hold', { status: 'ON', reason: 'case 2026-20' })).status).toBe(200);
    // An upload still open is state that cannot move: declared, refused with evidence, the package completes.
    const whole = Buffer.from('never completed');
    const upload = await client.call('POST', client.objectUrl(bucket, 'big.bin', '?uploads'), { headers: governance(whole) });
    expect(upload.status).toBe(201);
    uploadId = String(upload.json.upload_id);
  });
  afterAll(async () => {
    await env.stop();
    await temp.remove();
  });

  it('full: a signed package with every item hashed, the objects with their governance metadata, the snapshots, a verifying evidence bundle, DEP and SBOM', async () => {
    const { status, file } = await exportTenant(admin, 'full');

    const verified = await verifyPackage(file, { jwks });
    expect(verified).toMatchObject({ ok: true, failures: [] });
    expect(verified.warning).toBeUndefined();
    expect(jwks.keys.map((key) => key.kid)).toContain(verified.keyId);

    const files = await readTarGz(file, DEFAULT_LIMITS);
    const manifest = manifestOf(files);
    expect(sha256Digest(files.get('manifest.json')!)).toBe(status.manifest_digest);
    expect(manifest).toMatchObject({
      version: '1.0',
      source_provider: 'provider-source',
      tenant_id: tenant,
      scenario: 'full',
      evidence_profile_id: 'ecs-evidence-admissible',
      hash_profile_id: 'ecs-hash-v1',
      evidence_range: { chain_id: expect.any(String), from_sequence: 1, to_sequence: expect.any(Number) },
      governance_metadata: { jurisdiction: 'DE', classification: 'internal' },
      authority_snapshot_id: expect.stringMatching(/^authsnap:sha256:[0-9a-f]{64}$/),
      policy_snapshot_id: expect.stringMatching(/^polsnap:sha256:[0-9a-f]{64}$/),
      signatures: [{ key_id: verified.keyId, alg: 'EdDSA', signature_ref: 'manifest.sig' }],
    });
    expect(new Date(manifest.created).toISOString()).toBe(manifest.created);
    for (const item of manifest.contents) {
      expect(sha256Digest(files.get(item.path)!)).toBe(item.integrity_hash);
    }
    const types = new Set(manifest.contents.map((item) => item.type));
    for (const type of [
      'config',
      'workload_definition',
      'data_snapshot',
      'authority_snapshot',
      'policy_snapshot',
      'evidence_chain_segment',
      'dependency_manifest',
      'sbom',
    ])
      expect(types).toContain(type);

    // Snapshots: the content hashes to the id in force.
    const snapshot = (type: string) => files.get(manifest.contents.find((item) => item.type === type)!.path)!;
    expect(`authsnap:${sha256Digest(canonicalJson(JSON.parse(snapshot('authority_snapshot').toString())))}`).toBe(
      manifest.authority_snapshot_id,
    );
    expect(JSON.parse(snapshot('policy_snapshot').toString())).toMatchObject({ baseline: 'ecs-baseline-v1' });

    // Workloads: both definitions, the image reference declared as a dependency.
    const workloads = manifest.contents.filter((item) => item.type === 'workload_definition');
    expect(workloads).toHaveLength(2);
    expect(workloads.map((item) => JSON.parse(files.get(item.path)!.toString()).image_ref)).toEqual([PINNED_IMAGE, PINNED_IMAGE]);

    // Every object version's bytes, with its governance metadata.
    const objects = manifest.contents.filter((item) => item.type === 'data_snapshot');
    expect(objects).toHaveLength(3); // the open upload has no version
    expect(status.object_versions).toBe(3);
    const versionOf = (key: string, body: Buffer) =>
      objects.find((item) => item.governance_metadata?.key === key && files.get(item.path)!.equals(body));
    for (const [key, body] of [
      ['a.txt', first],
      ['a.txt', second],
      ['docs/b.txt', held],
    ] as const) {
      const item = versionOf(key, body);
      expect(item).toBeDefined();
      expect(item!.governance_metadata).toMatchObject({
        bucket,
        key,
        jurisdiction: 'DE',
        classification: 'internal',
        integrity: `sha256:${sha256Digest(body).slice('sha256:'.length)}`,
        legal_hold: key === 'docs/b.txt',
        delete_marker: false,
      });
    }
    expect(versionOf('a.txt', second)!.governance_metadata).toMatchObject({ retention_ttl: 'P30D', is_latest: true });
    expect(versionOf('a.txt', first)!.governance_metadata).toMatchObject({ retention_ttl: 'P0D', is_latest: false });
    const bucketConfig = manifest.contents.find((item) => item.path.startsWith('buckets/'))!;
    expect(JSON.parse(files.get(bucketConfig.path)!.toString())).toMatchObject({ name: bucket, versioning: true, jurisdiction: 'DE' });

    // The nested evidence bundle verifies with the verifier of `ecs verify`, against the deployment's keys.
    const bundleFile = path.join(temp.path, 'nested-bundle.tar.gz');
    await writeFile(bundleFile, files.get('evidence/bundle.tar.gz')!);
    const bundle = await verifyBundlePath(bundleFile, { jwks });
    expect(bundle.checks.filter((check) => !check.ok)).toEqual([]);
    expect(bundle.ok).toBe(true);
    expect(bundle.events).toBe(manifest.evidence_range.to_sequence);
    const bundleEvents = (await readTarGz(bundleFile, DEFAULT_LIMITS)).get('events.jsonl')!.toString().trim().split('\n');
    expect(bundleEvents.map((line) => JSON.parse(line).event_type)).toEqual(
      expect.arrayContaining(['workload.refuse', 'migration.export.plan', 'migration.export.start']),
    );

    // DEP: the image registry and the non-portable VM state with its alternative.
    const dependencies = JSON.parse(files.get('dependencies.json')!.toString());
    expect(dependencies.requires).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'image_registry', reference: PINNED_IMAGE, registry: 'registry.example.eu' }),
        expect.objectContaining({ kind: 'jurisdiction', value: 'DE' }),
        expect.objectContaining({ kind: 'authority_binding', snapshot_id: manifest.authority_snapshot_id }),
        expect.objectContaining({ kind: 'policy_baseline', snapshot_id: manifest.policy_snapshot_id }),
      ]),
    );
    const vmRefusal = {
      item: `workload:${vmWorkload}`,
      reason_code: 'vm_state_not_portable',
      alternative: expect.stringContaining('re-provision'),
    };
    const uploadRefusal = { item: `multipart_upload:${bucket}/big.bin#${uploadId}`, reason_code: 'open_multipart_upload' };
    expect(dependencies.non_portable).toEqual([expect.objectContaining(vmRefusal), expect.objectContaining(uploadRefusal)]);
    expect(manifest.refused_items).toEqual(dependencies.non_portable);

    // SBOM: CycloneDX 1.5 naming every other content path with its hash.
    const sbom = JSON.parse(files.get('sbom.cdx.json')!.toString());
    expect(sbom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5' });
    const listed = new Map<string, string>(
      sbom.components.map((component: { name: string; hashes: Array<{ content: string }> }) => [
        component.name,
        component.hashes[0]!.content,
      ]),
    );
    for (const item of manifest.contents.filter((entry) => entry.type !== 'sbom'))
      expect(listed.get(item.path)).toBe(item.integrity_hash.slice('sha256:'.length));

    // The export's events, with the snapshots in force.
    const events = await chainEvents(env, tenant);
    const ofExport = events.filter((event) => event.details.migration_export_id === status.id);
    expect(ofExport.map((event) => [event.eventType, event.outcome])).toEqual([
      ['migration.export.plan', 'accepted'],
      ['migration.export.start', 'accepted'],
      ['migration.export.refuse', 'refused'],
      ['migration.export.refuse', 'refused'],
      ['migration.export.complete', 'accepted'],
      // The download above: the package handed over, every byte of it.
      ['migration.export.transfer', 'accepted'],
    ]);
    expect(ofExport.at(-1)!.details).toMatchObject({ bytes_sent: status.package_size, package_digest: status.package_digest });
    for (const event of ofExport) {
      expect(event.authoritySnapshotId).toBe(manifest.authority_snapshot_id);
      expect(event.policySnapshotId).toBe(manifest.policy_snapshot_id);
    }
    expect(ofExport[2]).toMatchObject({ refusalReasonCode: 'vm_state_not_portable', details: { refused_item: `workload:${vmWorkload}` } });
    expect(ofExport[3]).toMatchObject({
      refusalReasonCode: 'open_multipart_upload',
      details: { alternative: expect.stringContaining('complete or abort') },
    });
    expect(ofExport[4]!.details).toMatchObject({
      manifest_digest: status.manifest_digest,
      package_digest: status.package_digest,
      object_versions: 3,
    });
  });

  it('GraphQL exportTenant runs the same job: polled with migrationExport, the package from its packageUrl; refused with evidence for a stranger', async () => {
    const EXPORT_TENANT = `mutation($i: ExportTenantInput!) { exportTenant(input: $i) { id tenantId scenario state cutover refusedItems } }`;
    const STATUS = `query($id: ID!) { migrationExport(id: $id) { id state packageDigest packageSize packageUrl objectVersions cutover migratedTo } }`;
    const started = await env.gqlAs<{ exportTenant: { id: string; tenantId: string; scenario: string; state: string; cutover: string } }>(
      admin,
      EXPORT_TENANT,
      { i: { tenantId: tenant, scenario: 'data-only' } },
    );
    expect(started.errors).toBeUndefined();
    const job = started.data!.exportTenant;
    expect(job).toMatchObject({
      id: expect.stringMatching(/^mex-/),
      tenantId: tenant,
      scenario: 'data-only',
      state: 'queued',
      cutover: 'pending',
    });
    let status: Record<string, unknown> = {};
    const deadline = Date.now() + 60_000;
    while (status.state !== 'completed') {
      if (Date.now() > deadline || status.state === 'failed') throw new Error(`export ${job.id}: ${JSON.stringify(status)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const polled = await env.gqlAs<{ migrationExport: Record<string, unknown> }>(admin, STATUS, { id: job.id });
      status = polled.data!.migrationExport;
    }
    // The same job over REST, and its package where packageUrl says.
    const rested = await rest(env, admin, 'GET', `${EXPORTS}/${job.id}`);
    expect(status).toMatchObject({
      packageDigest: rested.json.package_digest,
      packageSize: rested.json.package_size,
      objectVersions: rested.json.object_versions,
      packageUrl: `${EXPORTS}/${job.id}/package`,
      migratedTo: null,
    });
    const downloaded = await fetch(`${env.url}${String(status.packageUrl)}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(downloaded.status).toBe(200);
    const bytes = Buffer.from(await downloaded.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(status.packageDigest);

    const stranger = await env.token('tenant-admin', uniqueId('other'));
    const refused = await env.gqlAs(stranger, EXPORT_TENANT, { i: { tenantId: tenant } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.stringMatching(/^eosc:/) });
    const hidden = await env.gqlAs<{ migrationExport: unknown }>(stranger, STATUS, { id: job.id });
    expect(hidden.errors?.[0]?.extensions?.code).toBe('ECS_FORBIDDEN');
    const unknown = await env.gqlAs<{ migrationExport: unknown }>(admin, STATUS, { id: 'mex-00000000-0000-0000-0000-000000000000' });
    expect(unknown.data?.migrationExport).toBeNull();
  });

  it('evidence-only: no object bytes, no workloads; still signed and verifying', async () => {
    const platformAdmin = await env.token('platform-admin');
    const { file } = await exportTenant(platformAdmin, 'evidence-only');
    expect((await verifyPackage(file, { jwks })).ok).toBe(true);
    const files = await readTarGz(file, DEFAULT_LIMITS);
    const manifest = manifestOf(files);
    expect(manifest.scenario).toBe('evidence-only');
    expect(manifest.contents.filter((item) => ['data_snapshot', 'workload_definition'].includes(item.type))).toEqual([]);
    expect([...files.keys()].filter((name) => name.startsWith('objects/') || name.startsWith('buckets/'))).toEqual([]);
    expect(manifest.contents.map((item) => item.type)).toEqual(
      expect.arrayContaining(['evidence_chain_segment', 'authority_snapshot', 'policy_snapshot', 'sbom']),
    );
  });

  it('refuses, with evidence, a caller who does not administer the tenant and a scenario that cannot be exported', async () => {
    const stranger = await env.token('tenant-admin', uniqueId('other'));
    const auditor = await env.token('auditor', tenant);
    for (const token of [stranger, auditor]) {
      const refused = await rest(env, token, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'full' });
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({
        code: 'ECS_FORBIDDEN',
        message: expect.any(String),
        evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
      });
    }
    const requested = await rest(env, admin, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'evidence-only' });
    expect(requested.status).toBe(202);
    const status = await rest(env, stranger, 'GET', `${EXPORTS}/${String(requested.json.id)}`);
    expect(status.status).toBe(403);
    expect(status.json.evidence_pointer).toMatch(/^eosc:\/\/evidence\//);

    // At most EXPORTS_PER_PRINCIPAL (2) queued or running per principal: the rest are 429 with evidence.
    const eager = await env.token('tenant-admin', tenant, { subject: uniqueId('eager') });
    const burst = await Promise.all(
      [1, 2, 3, 4].map(() => rest(env, eager, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'evidence-only' })),
    );
    expect(burst.filter((answer) => answer.status === 202).length).toBeLessThanOrEqual(2);
    const limited = burst.filter((answer) => answer.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(limited[0]!.json).toMatchObject({ code: 'ECS_RATE_LIMITED', evidence_pointer: expect.any(String) });

    const vm = await rest(env, admin, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'vm' });
    expect(vm.status).toBe(400);
    expect(vm.json).toMatchObject({
      code: 'ECS_VALIDATION_FAILED',
      message: expect.stringContaining('alternative'),
      evidence_pointer: expect.any(String),
    });
    expect((await rest(env, admin, 'POST', EXPORTS, { tenant_id: tenant })).status).toBe(400);
    const text = await request(`${env.url}${EXPORTS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/plain' },
      body: 'full',
    });
    expect(text.statusCode).toBe(415);
    expect(await text.body.json()).toMatchObject({ code: 'ECS_UNSUPPORTED_MEDIA_TYPE' });
    expect((await rest(env, undefined, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'full' })).status).toBe(401);
    expect((await rest(env, admin, 'GET', `${EXPORTS}/mex-00000000-0000-0000-0000-000000000000`)).json).toMatchObject({
      code: 'ECS_NOT_FOUND',
    });
    const openApi = (await (await fetch(`${env.url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const documented of [EXPORTS, `${EXPORTS}/{id}`, `${EXPORTS}/{id}/package`]) expect(openApi.paths).toHaveProperty([documented]);

    const events = await chainEvents(env, tenant);
    const refusals = events.filter((event) => event.eventType === 'migration.export.refuse' && event.outcome === 'refused');
    expect(refusals.map((event) => event.refusalReasonCode)).toEqual(
      expect.arrayContaining(['role_not_permitted', 'outside_tenant_scope', 'scenario_not_supported', 'export_limit_reached']),
    );
    expect(refusals.find((event) => event.refusalReasonCode === 'scenario_not_supported')!.details).toMatchObject({
      scenario: 'vm',
      alternative: expect.stringContaining('evidence-only'),
    });
  });

  it('a package with one byte changed, or a re-written manifest, fails verification', async () => {
    const { file } = await exportTenant(admin, 'data-only');
    const files = await readTarGz(file, DEFAULT_LIMITS);
    const manifest = manifestOf(files);
    expect(manifest.contents.some((item) => item.type === 'workload_definition')).toBe(false);
    const target = manifest.contents.find((item) => item.type === 'data_snapshot')!.path;

    const repack = async (name: string, change: (files: Map<string, Buffer>) => void): Promise<string> => {
      const copy = new Map([...files].map(([key, bytes]) => [key, Buffer.from(bytes)]));
      change(copy);
      const dir = path.join(temp.path, name);
      for (const [entry, bytes] of copy) {
        await mkdir(path.dirname(path.join(dir, entry)), { recursive: true });
        await writeFile(path.join(dir, entry), bytes);
      }
      const out = path.join(temp.path, `${name}.tar.gz`);
      await packDirectory(dir, createWriteStream(out));
      return out;
    };

    const intact = await repack('intact', () => undefined);
    expect((await verifyPackage(intact, { jwks })).ok).toBe(true);
    // Without the source's keys, the package's own jwks.json proves integrity only (warned); keys that do not hold the signer fail.
    const own = await verifyPackage(intact);
    expect(own).toMatchObject({ ok: true, warning: expect.stringContaining('integrity, not origin') });
    const stranger = { keys: jwks.keys.filter((key) => key.kid !== own.keyId) };
    expect((await verifyPackage(intact, { jwks: stranger })).failures).toEqual([`signature: no key ${own.keyId} in the JWKS`]);
    const extra = await repack('extra', (copy) => copy.set('objects/smuggled', Buffer.from('not listed')));
    expect((await verifyPackage(extra, { jwks })).failures).toEqual([
      'integrity: objects/smuggled is in the package but not in the manifest',
    ]);
    const missing = await repack('missing', (copy) => copy.delete(target));
    expect((await verifyPackage(missing, { jwks })).failures).toEqual([`integrity: ${target} is listed but not in the package`]);

    const tampered = await repack('tampered', (copy) => {
      copy.get(target)![0]! ^= 0x01;
    });
    const broken = await verifyPackage(tampered, { jwks });
    expect(broken.ok).toBe(false);
    expect(broken.failures).toEqual([
      expect.stringMatching(new RegExp(`^integrity: ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} hashes to`)),
    ]);

    // Re-hashing the item in the manifest breaks the signature instead.
    const rehashed = await repack('rehashed', (copy) => {
      copy.get(target)![0]! ^= 0x01;
      const changed = manifestOf(copy);
      const item = changed.contents.find((entry) => entry.path === target)!;
      item.integrity_hash = sha256Digest(copy.get(target)!);
      copy.set('manifest.json', Buffer.from(`${JSON.stringify(changed, null, 2)}\n`));
    });
    const resigned = await verifyPackage(rehashed, { jwks });
    expect(resigned.ok).toBe(false);
    expect(resigned.failures).toEqual([expect.stringMatching(/^signature: /)]);
  });

  it('an object whose stored bytes were altered fails the export, evidenced, and serves no package', async () => {
    const { chmod, writeFile: overwrite } = await import('node:fs/promises');
    const blob = blobPath(env.dataDir, sha256Digest(held).slice('sha256:'.length));
    await chmod(blob, 0o644);
    await overwrite(blob, Buffer.from('b is under legal hole'));
    const requested = await rest(env, admin, 'POST', EXPORTS, { tenant_id: tenant, scenario: 'data-only' });
    expect(requested.status).toBe(202);
    const id = String(requested.json.id);
    const deadline = Date.now() + 60_000;
    let status = requested.json;
    while (status.state === 'queued' || status.state === 'running') {
      if (Date.now() > deadline) throw new Error(`migration export ${id} still ${String(status.state)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await rest(env, admin, 'GET', `${EXPORTS}/${id}`)).json;
    }
    expect(status).toMatchObject({ state: 'failed', package_url: null, error: expect.stringContaining('no longer hash') });
    const download = await rest(env, admin, 'GET', `${EXPORTS}/${id}/package`);
    expect(download.status).toBe(409);
    expect(download.json).toMatchObject({ code: 'ECS_CONFLICT' });
    const failed = (await chainEvents(env, tenant)).filter((event) => event.details.migration_export_id === id);
    expect(failed.map((event) => [event.eventType, event.outcome])).toEqual([
      ['migration.export.plan', 'accepted'],
      ['migration.export.start', 'accepted'],
      ['migration.export.fail', 'failed'],
    ]);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(path.join(env.dataDir, 'migration-exports'))).filter((name) => name.endsWith('.partial'))).toEqual([]);
    expect(failed[2]!.details.failure_reason).toContain('no longer hash');
  });
});
