import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { migrationExportJobs } from '../../app/migration/migration-export-jobs';
import { createLogger } from '../../lib/logger';
import { INTERRUPTED_EXPORT_ERROR, queuedStatus } from '../../lib/migration/export-jobs';
import type { MigrationRequestContext } from '../../lib/migration/export-jobs';
import { chainEvents } from '../support/chain-events';
import type { ChainEvent } from '../support/chain-events';
import { exportAndWait, rest } from '../support/export-client';
import { governance, storageClient } from '../support/storage-client';
import { CREATE_TENANT, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const EXPORTS = '/v1/migrations/exports';

describe('cutover on the source (POST /v1/migrations/exports/{id}/complete and /rollback)', () => {
  let env: TestStack;
  let tenant: string;
  let admin: string;
  let bucket: string;
  const target = 'https://ecs-target.example.eu/v1/tenants/';
  const body = Buffer.from('bytes that stay readable after the move');

  /** Requests an export of the tenant and waits for it to complete; returns its id. */
  async function completedExport(scenario = 'evidence-only'): Promise<string> {
    const requested = await rest(env, admin, 'POST', EXPORTS, { tenant_id: tenant, scenario });
    expect(requested.status).toBe(202);
    expect(requested.json).toMatchObject({ cutover: 'pending', migrated_to: null, cutover_at: null, cutover_evidence_pointer: null });
    const id = String(requested.json.id);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { json } = await rest(env, admin, 'GET', `${EXPORTS}/${id}`);
      if (json.state === 'completed') return id;
      if (json.state === 'failed' || Date.now() > deadline) throw new Error(`migration export ${id}: ${JSON.stringify(json)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** A REST call with any method and a JSON body. */
  async function call(method: 'PATCH' | 'POST' | 'PUT', urlPath: string, token: string, json?: unknown) {
    const response = await request(`${env.url}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  const eventsOf = async (id: string): Promise<ChainEvent[]> =>
    (await chainEvents(env, tenant)).filter((event) => event.details.migration_export_id === id);

  /** The event an evidence pointer names, in the tenant's chain. */
  const eventAt = async (pointer: unknown): Promise<ChainEvent | undefined> =>
    (await chainEvents(env, tenant)).find((event) => event.evidencePointer === pointer);

  beforeAll(async () => {
    env = await startTestStack({ env: { PROVIDER_ID: 'provider-source' } });
    tenant = uniqueId('cut');
    admin = await env.token('tenant-admin', tenant);
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
    const client = storageClient(env, admin);
    bucket = await client.createBucket(tenant);
    expect((await client.put(bucket, 'kept.txt', body, governance(body))).status).toBe(201);
  });
  afterAll(async () => {
    await env.stop();
  });

  it('rollback before completion: evidenced on the source, the package removed, then complete and download are 409', async () => {
    const id = await completedExport();
    const packageFile = path.join(env.dataDir, 'migration-exports', `${id}.tar.gz`);
    expect(existsSync(packageFile)).toBe(true);

    const rolledBack = await rest(env, admin, 'POST', `${EXPORTS}/${id}/rollback`, { reason: 'the target is not ready' });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.json).toMatchObject({
      id,
      state: 'completed',
      cutover: 'rolled_back',
      migrated_to: null,
      package_url: null,
      cutover_at: expect.any(String),
      cutover_evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
    });
    expect(existsSync(packageFile)).toBe(false);
    expect(await eventAt(rolledBack.json.cutover_evidence_pointer)).toMatchObject({
      eventType: 'migration.rollback',
      outcome: 'accepted',
      details: { migration_export_id: id, side: 'source', reason: 'the target is not ready' },
      authoritySnapshotId: expect.stringMatching(/^authsnap:/),
      policySnapshotId: expect.stringMatching(/^polsnap:/),
    });
    // Idempotent: the same answer (no body is needed), no second event.
    const again = await rest(env, admin, 'POST', `${EXPORTS}/${id}/rollback`);
    expect(again).toMatchObject({ status: 200, json: rolledBack.json });

    const complete = await rest(env, admin, 'POST', `${EXPORTS}/${id}/complete`, { migrated_to: `${target}${tenant}` });
    expect(complete.status).toBe(409);
    expect(complete.json).toMatchObject({
      code: 'ECS_CONFLICT',
      message: expect.stringContaining('rolled back'),
      evidence_pointer: expect.any(String),
    });
    const download = await rest(env, admin, 'GET', `${EXPORTS}/${id}/package`);
    expect(download.status).toBe(409);
    expect(download.json).toMatchObject({ code: 'ECS_CONFLICT', message: expect.stringContaining('rolled back') });

    expect((await eventsOf(id)).map((event) => [event.eventType, event.outcome, event.refusalReasonCode])).toEqual([
      ['migration.export.plan', 'accepted', null],
      ['migration.export.start', 'accepted', null],
      ['migration.export.complete', 'accepted', null],
      ['migration.rollback', 'accepted', null],
      ['migration.complete', 'refused', 'cutover_rolled_back'],
    ]);
    const tenantNow = await rest(env, admin, 'GET', `/v1/tenants/${tenant}`);
    expect(tenantNow.json).toMatchObject({ status: 'active' });
    expect(tenantNow.json).not.toHaveProperty('migrated_to');
  });

  it('refuses a caller who does not administer the tenant (403, evidenced), bad bodies (400) and unknown exports (404)', async () => {
    const id = await completedExport();
    const stranger = await env.token('tenant-admin', uniqueId('other'));
    const auditor = await env.token('auditor', tenant);
    for (const token of [stranger, auditor]) {
      for (const [step, json] of [
        ['complete', { migrated_to: `${target}${tenant}` }],
        ['rollback', { reason: 'not mine to roll back' }],
      ] as const) {
        const refused = await rest(env, token, 'POST', `${EXPORTS}/${id}/${step}`, json);
        expect(refused.status).toBe(403);
        expect(refused.json).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//) });
        expect(await eventAt(refused.json.evidence_pointer)).toMatchObject({
          outcome: 'refused',
          refusalReasonClass: 'authority_missing_or_invalid',
        });
      }
    }
    for (const wrong of [
      {},
      { migrated_to: 'ftp://target.example.eu/acme' },
      { migrated_to: 'not a url' },
      { migrated_to: `https://target.example.eu/${'a'.repeat(2048)}` },
      { migrated_to: `${target}${tenant}`, extra: true },
    ]) {
      const refused = await rest(env, admin, 'POST', `${EXPORTS}/${id}/complete`, wrong);
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({ code: 'ECS_BAD_REQUEST' });
    }
    expect((await rest(env, admin, 'POST', `${EXPORTS}/${id}/rollback`, { reason: 'x'.repeat(501) })).status).toBe(400);
    expect((await rest(env, admin, 'POST', `${EXPORTS}/${id}/rollback`, { reason: 'line\u0007bell' })).status).toBe(400);
    expect((await rest(env, admin, 'POST', `${EXPORTS}/${id}/complete`)).status).toBe(415);
    const unknown = await rest(env, admin, 'POST', `${EXPORTS}/mex-00000000-0000-0000-0000-000000000000/complete`, {
      migrated_to: `${target}${tenant}`,
    });
    expect(unknown).toMatchObject({ status: 404, json: { code: 'ECS_NOT_FOUND' } });
    // Nothing above changed the export or the tenant.
    expect((await rest(env, admin, 'GET', `${EXPORTS}/${id}`)).json).toMatchObject({ cutover: 'pending' });
    expect((await rest(env, admin, 'GET', `/v1/tenants/${tenant}`)).json).toMatchObject({ status: 'active' });
    const openApi = (await (await fetch(`${env.url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const documented of [`${EXPORTS}/{id}/complete`, `${EXPORTS}/{id}/rollback`]) expect(openApi.paths).toHaveProperty([documented]);
  });

  it('a job that was running when its gateway stopped answers failed (interrupted): no package, no completion; it can be rolled back', async () => {
    const id = `mex-${randomUUID()}`;
    const dir = path.join(env.dataDir, 'migration-exports');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, `${id}.json`),
      JSON.stringify({ ...queuedStatus({ id, tenantId: tenant, scenario: 'full' }), state: 'running' }),
    );
    await writeFile(path.join(dir, `${id}.tar.gz.partial`), 'half a package');
    const status = await rest(env, admin, 'GET', `${EXPORTS}/${id}`);
    expect(status).toMatchObject({ status: 200, json: { id, state: 'failed', error: INTERRUPTED_EXPORT_ERROR, package_url: null } });
    expect((await rest(env, admin, 'GET', `${EXPORTS}/${id}/package`)).status).toBe(409);
    const complete = await rest(env, admin, 'POST', `${EXPORTS}/${id}/complete`, { migrated_to: `${target}${tenant}` });
    expect(complete).toMatchObject({ status: 409, json: { code: 'ECS_CONFLICT', evidence_pointer: expect.any(String) } });
    expect(await eventAt(complete.json.evidence_pointer)).toMatchObject({
      eventType: 'migration.complete',
      outcome: 'refused',
      refusalReasonCode: 'export_not_completed',
    });
    const rolledBack = await rest(env, admin, 'POST', `${EXPORTS}/${id}/rollback`, {});
    expect(rolledBack).toMatchObject({ status: 200, json: { state: 'failed', cutover: 'rolled_back' } });
    expect(existsSync(path.join(dir, `${id}.tar.gz.partial`))).toBe(false);
    expect((await rest(env, admin, 'GET', `/v1/tenants/${tenant}`)).json).toMatchObject({ status: 'active' });
  });

  it('complete: the tenant is migrated and read-only here (reads and evidence exports work, governed writes are refused naming the target)', async () => {
    const id = await completedExport();
    const migratedTo = `${target}${tenant}`;
    const completed = await rest(env, admin, 'POST', `${EXPORTS}/${id}/complete`, { migrated_to: migratedTo });
    expect(completed.status).toBe(200);
    expect(completed.json).toMatchObject({
      id,
      state: 'completed',
      cutover: 'completed',
      migrated_to: migratedTo,
      cutover_at: expect.any(String),
      cutover_evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
    });
    const status = await rest(env, admin, 'GET', `${EXPORTS}/${id}`);
    expect(status.json).toEqual(completed.json);
    const event = await eventAt(completed.json.cutover_evidence_pointer);
    expect(event).toMatchObject({
      eventType: 'migration.complete',
      outcome: 'accepted',
      details: {
        migration_export_id: id,
        scenario: 'evidence-only',
        package_digest: status.json.package_digest,
        manifest_digest: status.json.manifest_digest,
        migrated_to: migratedTo,
        previous_status: 'active',
      },
      authoritySnapshotId: expect.stringMatching(/^authsnap:/),
      policySnapshotId: expect.stringMatching(/^polsnap:/),
    });

    const shown = await rest(env, admin, 'GET', `/v1/tenants/${tenant}`);
    expect(shown.json).toMatchObject({ id: tenant, status: 'migrated', migrated_to: migratedTo });

    // Governed writes are refused with the target named and the refusal evidenced.
    const client = storageClient(env, admin);
    const put = await client.put(bucket, 'new.txt', body, governance(body));
    const workload = await rest(env, admin, 'POST', '/v1/workloads', {
      tenant_id: tenant,
      envelope_type: 'container',
      image_ref: PINNED_IMAGE,
    });
    for (const refused of [put, workload]) {
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({
        message: expect.stringContaining(`has migrated to ${migratedTo}`),
        evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
      });
      expect(await eventAt(refused.json.evidence_pointer)).toMatchObject({
        outcome: 'refused',
        refusalReasonCode: 'tenant_migrated',
        details: expect.objectContaining({ migrated_to: migratedTo }),
      });
    }
    // Reads and the evidence stay.
    const read = await client.get(bucket, 'kept.txt');
    expect(read.status).toBe(200);
    expect(read.body.equals(body)).toBe(true);
    const evidenceExport = await exportAndWait(env, await env.token('auditor', tenant), {
      tenant_id: tenant,
      evidence_profile_id: 'ecs-evidence-baseline',
    });
    expect(evidenceExport).toMatchObject({ state: 'completed' });

    // The control plane no longer changes it.
    const patched = await call('PATCH', `/v1/tenants/${tenant}`, env.adminToken, { jurisdiction: 'FR' });
    const suspended = await call('POST', `/v1/tenants/${tenant}/suspend`, env.adminToken);
    for (const refused of [patched, suspended]) {
      expect(refused.status).toBe(409);
      expect(refused.json).toMatchObject({ code: 'ECS_CONFLICT', message: expect.stringContaining(migratedTo) });
    }

    // Idempotent: completing again answers the same status and adds no event.
    const again = await rest(env, admin, 'POST', `${EXPORTS}/${id}/complete`, { migrated_to: migratedTo });
    expect(again).toMatchObject({ status: 200, json: completed.json });

    // After completion there is nothing to roll back here.
    const rollback = await rest(env, admin, 'POST', `${EXPORTS}/${id}/rollback`);
    expect(rollback.status).toBe(409);
    expect(rollback.json).toMatchObject({
      code: 'ECS_CONFLICT',
      message: expect.stringContaining('cannot be rolled back'),
      evidence_pointer: expect.any(String),
    });
    expect((await eventsOf(id)).map((each) => [each.eventType, each.outcome, each.refusalReasonCode])).toEqual([
      ['migration.export.plan', 'accepted', null],
      ['migration.export.start', 'accepted', null],
      ['migration.export.complete', 'accepted', null],
      ['migration.complete', 'accepted', null],
      ['migration.rollback', 'refused', 'cutover_completed'],
    ]);

    // A restarted gateway (a second job runner on the same data directory) still answers the job,
    // its package and its cutover; completing again there adds nothing either.
    const restart = () =>
      migrationExportJobs({
        db: env.stack.services.db,
        signer: env.stack.services.keys,
        providerId: 'provider-source',
        dataDir: env.dataDir,
        blobDir: path.join(env.dataDir, 'blobs'),
        perPrincipal: 2,
        log: createLogger({ level: 'silent' }),
      });
    const context: MigrationRequestContext = {
      caller: { subject: `tenant-admin@${tenant}`, roles: ['tenant-admin'], tenantId: tenant, authMethod: 'oidc' },
      correlationId: 'restart-check',
    };
    const restarted = restart();
    expect(await restarted.status(context, id)).toEqual(completed.json);
    expect(await restarted.complete(context, id, { migratedTo })).toEqual(completed.json);
    const opened = await restarted.openPackage(context, id);
    opened.stream.destroy();
    await restarted.stop();
    // A gateway that stopped after the commit but before saving the status: the chain decides, the retry adds nothing.
    const pending = { ...completed.json, cutover: 'pending', migrated_to: null, cutover_at: null, cutover_evidence_pointer: null };
    await writeFile(path.join(env.dataDir, 'migration-exports', `${id}.json`), JSON.stringify(pending));
    const crashed = restart();
    expect(await crashed.status(context, id)).toMatchObject({ cutover: 'pending' });
    expect(await crashed.complete(context, id, { migratedTo })).toEqual(completed.json);
    await crashed.stop();
    expect((await eventsOf(id)).filter((each) => each.eventType === 'migration.complete')).toHaveLength(1);

    // Another export of the migrated tenant cannot complete: the tenant has already left.
    const later = await completedExport();
    const second = await rest(env, admin, 'POST', `${EXPORTS}/${later}/complete`, { migrated_to: `${migratedTo}-again` });
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({ code: 'ECS_CONFLICT', message: expect.stringContaining('cannot migrate') });
    expect((await rest(env, admin, 'GET', `/v1/tenants/${tenant}`)).json).toMatchObject({ migrated_to: migratedTo });
  });
});
