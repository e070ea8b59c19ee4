import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_LIMITS } from '../../lib/bundle/bundle';
import { readTarGz } from '../../lib/bundle/tar-reader';
import { packDirectory } from '../support/bundle-writer/pack-directory';
import { canonicalJson, sha256Digest } from '../../lib/evidence/canonical-json';
import { chainEvents } from '../support/chain-events';
import { downloadBundle, ecs, exportAndWait, rest, saveJwks } from '../support/export-client';
import { makeTempDir } from '../../testkit/temp-dir';
import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const ARTIFACTS: Record<string, [string, Record<string, unknown>]> = {
  'authority.graph.publish': [
    'authority_graph',
    { nodes: ['customer-root', 'integrator'], edges: [{ from: 'customer-root', to: 'integrator', role: 'delegate', expires: 'P1D' }] },
  ],
  'key.custody.declare': ['key_custody_model', { model: 'external-hsm', holder: 'customer', break_glass: false }],
  'controlplane.ownership.declare': ['controlplane_ownership', { root_identities: ['customer-root'], policy_snapshots: 'customer-owned' }],
  'telemetry.path.audit': ['telemetry_egress_map', { egress: [] }],
};

describe('No-Control Profile declarations (POST /v1/ncp/declarations) and ecs-evidence-ncp exports', () => {
  let env: TestStack;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let tenant: string;
  let admin: string;

  beforeAll(async () => {
    env = await startTestStack();
    temp = await makeTempDir('ecs-ncp-');
    tenant = uniqueId('ncp');
    admin = await env.token('tenant-admin', tenant);
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
  });
  afterAll(async () => {
    await env.stop();
    await temp.remove();
  });

  it('records each of the four declarations with its content-addressed artifact', async () => {
    for (const [type, [artifactType, artifact]] of Object.entries(ARTIFACTS)) {
      const hash = sha256Digest(canonicalJson(artifact as never));
      const response = await rest(env, admin, 'POST', '/v1/ncp/declarations', {
        type,
        artifact,
        artifact_hash: hash,
        subject_id: 'integrator-123',
      });
      expect(response.status).toBe(201);
      expect(response.json).toMatchObject({ artifact_type: artifactType, artifact_hash: hash, artifact_ref: `eosc://artifact/${hash}` });
      expect(response.json.event).toMatchObject({
        event_type: type,
        tenant_id: tenant,
        outcome: 'accepted',
        artifact_type: artifactType,
        artifact_ref: `eosc://artifact/${hash}`,
        artifact_hash: hash,
        subject_id: 'integrator-123',
        authority_snapshot_id: expect.stringMatching(/^authsnap:/),
      });
    }
    const stored = await env.stack.services.db.prisma.evidenceArtifact.findMany({
      where: { pointer: { startsWith: 'eosc://artifact/' }, tenantId: tenant },
    });
    expect(stored.length).toBeGreaterThanOrEqual(4);
    for (const row of stored) expect(`eosc://artifact/${sha256Digest(row.content)}`).toBe(row.pointer);
  });

  it('refuses bad declarations (400) and callers without ncp.declare (403, with evidence)', async () => {
    const artifact = { egress: [] };
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ type: 'telemetry.path.audit', artifact, artifact_hash: `sha256:${'0'.repeat(64)}` }, 400, 'ECS_VALIDATION_FAILED'],
      [{ type: 'telemetry.path.audit', artifact, artifact_ref: 'eosc://artifacts/telemetry-001' }, 400, 'ECS_VALIDATION_FAILED'],
      [{ type: 'telemetry.path.audit', artifact: { record_type: 'ecs.decision-record' } }, 400, 'ECS_VALIDATION_FAILED'],
      [{ type: 'delegation.access.grant', artifact }, 400, 'ECS_BAD_REQUEST'],
      [{ type: 'telemetry.path.audit', artifact: [1, 2] }, 400, 'ECS_BAD_REQUEST'],
    ];
    for (const [body, status, code] of cases) {
      const response = await rest(env, admin, 'POST', '/v1/ncp/declarations', body);
      expect({ body, status: response.status, code: response.json.code }).toEqual({ body, status, code });
    }
    for (const token of [
      await env.token('auditor', tenant),
      await env.token('reader', tenant),
      await env.token('tenant-admin', uniqueId('x')),
    ]) {
      const refused = await rest(env, token, 'POST', '/v1/ncp/declarations', { tenant_id: tenant, type: 'telemetry.path.audit', artifact });
      expect(refused).toMatchObject({ status: 403, json: { code: 'ECS_FORBIDDEN', evidence_pointer: expect.any(String) } });
    }
    // Refusals are not declarations: they carry no artifact fields.
    const events = await chainEvents(env, tenant);
    expect(events.filter((event) => event.outcome === 'refused').every((event) => !('artifact_ref' in event.details))).toBe(true);
  });

  it('a baseline export of a range with declarations is refused; the ncp export verifies and its artifacts are checked', async () => {
    const auditor = await env.token('auditor', tenant);
    const baseline = await rest(env, auditor, 'POST', '/v1/exports', { evidence_profile_id: 'ecs-evidence-baseline' });
    expect(baseline).toMatchObject({
      status: 400,
      json: { code: 'ECS_VALIDATION_FAILED', message: expect.stringMatching(/ecs-evidence-ncp/) },
    });
    // Before the first declaration the baseline profile fits.
    expect((await exportAndWait(env, auditor, { evidence_profile_id: 'ecs-evidence-baseline', to_sequence: 1 })).state).toBe('completed');

    const done = await exportAndWait(env, auditor, { evidence_profile_id: 'ecs-evidence-ncp' });
    expect(done.state).toBe('completed');
    const file = path.join(temp.path, 'ncp.tar.gz');
    expect((await downloadBundle(env, auditor, String(done.id), file)).status).toBe(200);
    const jwks = await saveJwks(env, path.join(temp.path, 'jwks.json'));
    const verified = await ecs('verify', file, '--jwks', jwks);
    expect(verified).toMatchObject({ code: 0 });
    expect(verified.stdout).toMatch(/VALID/);

    const files = await readTarGz(file, DEFAULT_LIMITS);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { artifacts: Record<string, string[]> };
    for (const [artifactType, artifact] of Object.values(ARTIFACTS)) {
      const hash = sha256Digest(canonicalJson(artifact as never));
      expect(manifest.artifacts[`${artifactType}s`]).toContain(`eosc://artifact/${hash}`);
      expect(files.get(`artifacts/sha256-${hash.slice(7)}.json`)!.toString()).toBe(canonicalJson(artifact as never));
    }

    // Swap the key custody artifact for another model: the verifier names the NCP check.
    const [, custody] = ARTIFACTS['key.custody.declare']!;
    const custodyFile = `artifacts/sha256-${sha256Digest(canonicalJson(custody as never)).slice(7)}.json`;
    const tampered = new Map(files).set(custodyFile, Buffer.from(canonicalJson({ ...custody, holder: 'integrator' } as never)));
    const dir = path.join(temp.path, 'tampered');
    for (const [name, bytes] of tampered) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), bytes);
    }
    const tamperedFile = path.join(temp.path, 'tampered.tar.gz');
    await packDirectory(dir, createWriteStream(tamperedFile));
    const rejected = await ecs('verify', tamperedFile, '--jwks', jwks);
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain('FAIL ncp-artifacts');
  });
});
