import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import { readTarGz } from '../../lib/bundle/tar-reader';
import { DEFAULT_LIMITS } from '../../lib/bundle/bundle';
import { packDirectory } from '../support/bundle-writer/pack-directory';
import { rotateSigningKey } from '../support/rotate-signing-key';
import { loadSigningKeys } from '../../lib/keys/signing-keys';
import { chainEvents } from '../support/chain-events';
import { downloadBundle, ecs, exportAndWait, rest, saveJwks, waitForExport } from '../support/export-client';
import { governance, storageClient } from '../support/storage-client';
import { makeTempDir } from '../../testkit/temp-dir';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const MAX_EVENTS = 60;
/** Exports one principal may have queued or running at once. */
const PER_PRINCIPAL = 2;

/** The files of a downloaded bundle. */
const unpack = (file: string): Promise<Map<string, Buffer>> => readTarGz(file, DEFAULT_LIMITS);

async function repack(files: ReadonlyMap<string, Buffer>, dir: string, file: string): Promise<void> {
  for (const [name, bytes] of files) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), bytes);
  }
  await packDirectory(dir, createWriteStream(file));
}

describe('evidence exports (POST /v1/exports, GET /v1/exports/{id}, GET /v1/exports/{id}/bundle)', () => {
  let env: TestStack;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let tenant: string;
  let auditor: string;
  let jwksFile: string;

  beforeAll(async () => {
    env = await startTestStack({
      env: { EXPORT_MAX_EVENTS: String(MAX_EVENTS), EXPORTS_PER_PRINCIPAL: String(PER_PRINCIPAL), PROVIDER_ID: 'provider-under-test' },
    });
    temp = await makeTempDir('ecs-exports-');
    tenant = uniqueId('exp');
    auditor = await env.token('auditor', tenant);
    jwksFile = await saveJwks(env, path.join(temp.path, 'jwks.json'));
  });
  afterAll(async () => {
    await env.stop();
    await temp.remove();
  });

  it('a tenant through creation, workload admission and refusal, object put/get and a refused delete exports and verifies with `ecs verify`', async () => {
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant, { classificationCeiling: 'internal' }) })).errors).toBeUndefined();
    const workload = { tenantId: tenant, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' };
    expect((await env.gql(CREATE_WORKLOAD, { input: workload })).errors).toBeUndefined();
    const refused = await env.gql(CREATE_WORKLOAD, { input: { ...workload, classification: 'secret', envelopeType: 'vm' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('ECS_POLICY_DENIED');
    const client = storageClient(env, await env.token('tenant-admin', tenant));
    const bucket = await client.createBucket(tenant);
    const body = Buffer.from('evidence, please');
    expect((await client.put(bucket, 'kept.txt', body, governance(body, { 'x-eosc-retention-ttl': 'P30D' }))).status).toBe(201);
    expect((await client.get(bucket, 'kept.txt')).body).toEqual(body);
    expect((await client.get(bucket, 'kept.txt', { method: 'DELETE' })).status).toBe(403);
    const head = (await chainEvents(env, tenant)).length;

    const requested = await rest(env, auditor, 'POST', '/v1/exports', { evidence_profile_id: 'ecs-evidence-admissible' });
    expect(requested.status).toBe(202);
    expect(requested.headers.location).toBe(`/v1/exports/${String(requested.json.id)}`);
    expect(requested.json).toMatchObject({
      tenant_id: tenant,
      state: 'queued',
      from_sequence: 1,
      to_sequence: head,
      evidence_profile_id: 'ecs-evidence-admissible',
    });
    const done = await waitForExport(env, auditor, String(requested.json.id));
    expect(done).toMatchObject({
      state: 'completed',
      events_done: head,
      bundle_url: `/v1/exports/${String(requested.json.id)}/bundle`,
      bundle_hash: expect.stringMatching(/^sha256:/),
    });

    // The audit plane verified the bundle file it wrote, as `ecs verify --jwks` does below.
    const status = await env.gqlAs<{ evidenceExport: { verification: Record<string, unknown> | null } }>(
      auditor,
      'query($id: ID!) { evidenceExport(id: $id) { verification { valid checks events failures } } }',
      { id: done.id },
    );
    expect(status.errors).toBeUndefined();
    expect(status.data!.evidenceExport.verification).toEqual({ valid: true, checks: expect.any(Number), events: head, failures: [] });
    expect(status.data!.evidenceExport.verification!.checks).toBeGreaterThanOrEqual(20);

    const file = path.join(temp.path, 'done-when.tar.gz');
    const download = await downloadBundle(env, auditor, String(done.id), file);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/gzip');
    expect(download.headers.etag).toBe(`"${String(done.bundle_hash)}"`);
    const verified = await ecs('verify', file, '--jwks', jwksFile);
    expect(verified.stderr).toBe('');
    expect(verified).toMatchObject({ code: 0 });
    expect(verified.stdout).toContain(`(${head} events): VALID`);

    const files = await unpack(file);
    const types = files
      .get('events.jsonl')!
      .toString()
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { event_type: string }).event_type);
    expect(types).toEqual(
      expect.arrayContaining([
        'tenant.create',
        'workload.admit',
        'workload.refuse',
        'storage.bucket.create',
        'object.put',
        'object.get',
        'object.delete',
      ]),
    );
    expect(types).not.toContain('evidence.export');
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Record<string, any>;
    expect(manifest).toMatchObject({
      export_id: done.id,
      tenant_id: tenant,
      provider_id: 'provider-under-test',
      evidence_profile_id: 'ecs-evidence-admissible',
      scope: { from_sequence: 1, to_sequence: head },
      bundle_hash: done.bundle_hash,
      merkle_root: done.merkle_root,
      signatures: [{ key_id: done.key_id, alg: 'EdDSA', signature_ref: 'manifest.sig' }],
    });
    // Policy snapshots and authority bindings travel as content-addressed artifacts.
    expect(manifest.artifacts.policy_snapshots).toHaveLength(1);
    expect(manifest.artifacts.authority_bindings.length).toBeGreaterThanOrEqual(1);
    const policy = files.get(`artifacts/sha256-${String(manifest.artifacts.policy_snapshots[0]).split(':').pop()}.json`)!;
    expect(JSON.parse(policy.toString())).toMatchObject({ baseline: 'ecs-baseline-v1' });

    // A tampered copy: one event's actor changed.
    const lines = files.get('events.jsonl')!.toString().split('\n');
    lines[2] = lines[2]!.replace('"actor":"', '"actor":"x');
    const tampered = new Map(files).set('events.jsonl', Buffer.from(lines.join('\n')));
    const tamperedFile = path.join(temp.path, 'tampered.tar.gz');
    await repack(tampered, path.join(temp.path, 'tampered'), tamperedFile);
    const rejected = await ecs('verify', tamperedFile, '--jwks', jwksFile);
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toMatch(/FAIL (event-hashes|file-digests)/);
  });

  it('is an evidenced action: requested and completed events follow the range, and the completion binds the manifest', async () => {
    const before = (await chainEvents(env, tenant)).length;
    const done = await exportAndWait(env, auditor, { evidence_profile_id: 'ecs-evidence-baseline', from_sequence: 2, to_sequence: 5 });
    const file = path.join(temp.path, 'evidenced.tar.gz');
    await downloadBundle(env, auditor, String(done.id), file);
    const manifestBytes = (await unpack(file)).get('manifest.json')!;
    const events = (await chainEvents(env, tenant)).slice(before);
    const exportEvents = events.filter((event) => event.details.export_id === done.id);
    expect(exportEvents.map((event) => [event.eventType, event.outcome, event.details.export_phase])).toEqual([
      ['evidence.export', 'accepted', 'requested'],
      ['evidence.export', 'accepted', 'completed'],
    ]);
    expect(exportEvents[1]!.details).toMatchObject({
      from_sequence: 2,
      to_sequence: 5,
      export_profile_id: 'ecs-evidence-baseline',
      event_count: 4,
      bundle_hash: done.bundle_hash,
      manifest_digest: `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`,
    });
    expect(exportEvents[0]!.evidencePointer).toBe(done.evidence_pointer);
    // The export's own events never change what it covers.
    expect((await ecs('verify', file, '--jwks', jwksFile)).code).toBe(0);
  });

  it('serves the same bytes on every download (streamed again from the immutable events)', async () => {
    const done = await exportAndWait(env, auditor, { evidence_profile_id: 'ecs-evidence-admissible', to_sequence: 6 });
    const [a, b] = [path.join(temp.path, 'a.tar.gz'), path.join(temp.path, 'b.tar.gz')];
    expect((await downloadBundle(env, auditor, String(done.id), a)).status).toBe(200);
    expect((await downloadBundle(env, auditor, String(done.id), b)).status).toBe(200);
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
  });

  it('checklist 55: after key rotation an old bundle still verifies against the published keys, not against the new key alone', async () => {
    const done = await exportAndWait(env, auditor, { evidence_profile_id: 'ecs-evidence-admissible', to_sequence: 4 });
    const file = path.join(temp.path, 'before-rotation.tar.gz');
    await downloadBundle(env, auditor, String(done.id), file);
    const keyFile = path.join(env.dataDir, 'keys', 'signing-keys.json');
    const newKid = await rotateSigningKey(keyFile);
    const rotated = await loadSigningKeys(keyFile);
    const published = path.join(temp.path, 'rotated-jwks.json');
    await writeFile(published, JSON.stringify(rotated.jwks));
    expect((await ecs('verify', file, '--jwks', published)).code).toBe(0);
    const onlyNew = path.join(temp.path, 'only-new-jwks.json');
    await writeFile(onlyNew, JSON.stringify({ keys: rotated.jwks.keys.filter((key) => key.kid === newKid) }));
    const refused = await ecs('verify', file, '--jwks', onlyNew);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('FAIL signature');
  });

  it('exports a time range, and lists exports newest first', async () => {
    const events = await env.gql<{ events: { items: Array<{ sequence: number; occurredAt: string }> } }>(
      'query($t: ID!) { events(filter: { tenantId: $t }, first: 5) { items { sequence occurredAt } } }',
      { t: tenant },
    );
    const [, second, , fourth] = events.data!.events.items;
    const done = await exportAndWait(env, auditor, {
      evidence_profile_id: 'ecs-evidence-baseline',
      from: second!.occurredAt,
      to: fourth!.occurredAt,
    });
    expect(done).toMatchObject({ state: 'completed', from_sequence: second!.sequence });
    expect(Number(done.to_sequence)).toBeLessThan(fourth!.sequence + 1);
    const listed = await rest(env, auditor, 'GET', '/v1/exports?limit=2');
    expect(listed.status).toBe(200);
    expect((listed.json.items as Array<{ id: string }>)[0]!.id).toBe(done.id);
    expect(listed.json.next_cursor).toEqual(expect.any(String));
    const next = await rest(env, auditor, 'GET', `/v1/exports?limit=2&cursor=${String(listed.json.next_cursor)}`);
    expect((next.json.items as unknown[]).length).toBeGreaterThan(0);
  });

  it('refuses bad ranges and bad input with 400 and the error body', async () => {
    const head = (await chainEvents(env, tenant)).length;
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ evidence_profile_id: 'ecs-evidence-baseline', from_sequence: 5, to_sequence: 3 }, 'ECS_VALIDATION_FAILED', /below fromSequence/],
      [{ evidence_profile_id: 'ecs-evidence-baseline', from_sequence: head + 5 }, 'ECS_VALIDATION_FAILED', /below fromSequence|beyond/],
      [{ evidence_profile_id: 'ecs-evidence-baseline', to_sequence: head + 100 }, 'ECS_VALIDATION_FAILED', /beyond the chain head/],
      [
        { evidence_profile_id: 'ecs-evidence-baseline', from: '2000-01-01T00:00:00Z', to: '2000-01-02T00:00:00Z' },
        'ECS_VALIDATION_FAILED',
        /no event/,
      ],
      [
        { evidence_profile_id: 'ecs-evidence-baseline', from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' },
        'ECS_VALIDATION_FAILED',
        /after occurredFrom/,
      ],
      [
        { evidence_profile_id: 'ecs-evidence-baseline', from_sequence: 1, from: '2030-01-01T00:00:00Z' },
        'ECS_VALIDATION_FAILED',
        /not both/,
      ],
      [{ evidence_profile_id: 'ecs-evidence-regulated-ml' }, 'ECS_BAD_REQUEST', /evidence_profile_id/],
      [{ evidence_profile_id: 'ecs-evidence-baseline', from_sequence: 0 }, 'ECS_BAD_REQUEST', /from_sequence/],
      [{ evidence_profile_id: 'ecs-evidence-baseline', sequence: 1 }, 'ECS_BAD_REQUEST', /unknown field/],
    ];
    for (const [body, code, message] of cases) {
      const response = await rest(env, auditor, 'POST', '/v1/exports', body);
      expect({ body, status: response.status, code: response.json.code }).toEqual({ body, status: 400, code });
      expect(String(response.json.message)).toMatch(message);
    }
    const platformAuditor = await env.token('auditor');
    const noTenant = await rest(env, platformAuditor, 'POST', '/v1/exports', { evidence_profile_id: 'ecs-evidence-baseline' });
    expect(noTenant).toMatchObject({ status: 400, json: { code: 'ECS_VALIDATION_FAILED' } });
    const empty = await rest(env, platformAuditor, 'POST', '/v1/exports', {
      tenant_id: uniqueId('none'),
      evidence_profile_id: 'ecs-evidence-baseline',
    });
    expect(empty).toMatchObject({
      status: 400,
      json: { code: 'ECS_VALIDATION_FAILED', message: expect.stringMatching(/no evidence events/) },
    });
  });

  it('answers 404 for unknown exports and 401 without credentials', async () => {
    expect((await rest(env, auditor, 'GET', '/v1/exports/exp-00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await rest(env, auditor, 'GET', '/v1/exports/nothing')).status).toBe(404);
    const missing = await downloadBundle(env, auditor, 'exp-00000000-0000-4000-8000-000000000000', path.join(temp.path, 'missing'));
    expect(missing.status).toBe(404);
    expect(JSON.parse(await readFile(path.join(temp.path, 'missing'), 'utf8'))).toMatchObject({ code: 'ECS_NOT_FOUND' });
    expect((await rest(env, undefined, 'POST', '/v1/exports', { evidence_profile_id: 'ecs-evidence-baseline' })).status).toBe(401);
    const anonymous = await fetch(`${env.url}/v1/exports/exp-00000000-0000-4000-8000-000000000000/bundle`);
    expect(anonymous.status).toBe(401);
  });

  it('checklist 30: a non-auditor, or an auditor of another tenant, cannot export, read an export or download it (403, with evidence)', async () => {
    const done = await exportAndWait(env, auditor, { evidence_profile_id: 'ecs-evidence-baseline', to_sequence: 3 });
    const other = uniqueId('other');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(other) })).errors).toBeUndefined();
    for (const token of [await env.token('reader', tenant), await env.token('tenant-admin', tenant), await env.token('auditor', other)]) {
      const refused = await rest(env, token, 'POST', '/v1/exports', { tenant_id: tenant, evidence_profile_id: 'ecs-evidence-baseline' });
      expect(refused).toMatchObject({
        status: 403,
        json: { code: 'ECS_FORBIDDEN', evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//) },
      });
      expect((await rest(env, token, 'GET', `/v1/exports/${String(done.id)}`)).status).toBe(403);
      expect((await downloadBundle(env, token, String(done.id), path.join(temp.path, 'forbidden'))).status).toBe(403);
    }
    const refusals = (await chainEvents(env, tenant)).filter(
      (event) => event.eventType === 'authority.refusal' && event.refusalSubject === 'evidence.export',
    );
    expect(refusals.length).toBeGreaterThanOrEqual(9);
    // A platform-wide auditor may export any tenant.
    const platform = await exportAndWait(env, await env.token('auditor'), {
      tenant_id: other,
      evidence_profile_id: 'ecs-evidence-baseline',
    });
    expect(platform.state).toBe('completed');
  });

  it(`checklist 31: an unbounded range over ${MAX_EVENTS} events is refused; of 20 concurrent exports at most the per-principal limit run, the rest are 429`, async () => {
    const big = uniqueId('big');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(big) })).errors).toBeUndefined();
    for (let i = 0; i < MAX_EVENTS; i += 1) {
      const result = await env.gql('mutation($id: ID!, $j: String!) { updateTenant(id: $id, input: { jurisdiction: $j }) { id } }', {
        id: big,
        j: i % 2 ? 'DE' : 'FR',
      });
      expect(result.errors).toBeUndefined();
    }
    const bigAuditor = await env.token('auditor', big);
    const unbounded = await rest(env, bigAuditor, 'POST', '/v1/exports', { evidence_profile_id: 'ecs-evidence-baseline' });
    expect(unbounded).toMatchObject({
      status: 400,
      json: { code: 'ECS_VALIDATION_FAILED', message: expect.stringMatching(new RegExp(`at most ${MAX_EVENTS}`)) },
    });

    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        rest(env, bigAuditor, 'POST', '/v1/exports', { evidence_profile_id: 'ecs-evidence-baseline', to_sequence: MAX_EVENTS }),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((status) => status === 202 || status === 429)).toBe(true);
    // Refused exactly at the limit: each 429 found PER_PRINCIPAL exports queued or running, not more, not fewer.
    for (const answer of answers.filter((one) => one.status === 429)) {
      expect(answer.json).toEqual({
        code: 'ECS_RATE_LIMITED',
        message: `${PER_PRINCIPAL} exports of this principal are queued or running (limit ${PER_PRINCIPAL}); retry when one has finished`,
        evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
      });
      expect(answer.headers['retry-after']).toBe('10');
    }
    const accepted = answers.filter((one) => one.status === 202).map((answer) => String(answer.json.id));
    for (const id of accepted) expect((await waitForExport(env, bigAuditor, id)).state).toBe('completed');
    // The chain replays the queue: each accepted export requested once and completed once, and
    // never more than PER_PRINCIPAL of them open at one time (a request is recorded in the
    // transaction that counted the open ones, a completion in the one that closed it).
    const phases = (await chainEvents(env, big)).filter((event) => event.eventType === 'evidence.export' && event.outcome === 'accepted');
    expect(
      phases
        .filter((event) => event.details.export_phase === 'requested')
        .map((event) => event.details.export_id)
        .sort(),
    ).toEqual([...accepted].sort());
    let open = 0;
    let most = 0;
    for (const event of phases) {
      open += event.details.export_phase === 'requested' ? 1 : -1;
      most = Math.max(most, open);
    }
    expect([most, open]).toEqual([PER_PRINCIPAL, 0]);
  });
});
