import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Database } from '../../lib/db/database';
import { chainEvents } from '../support/chain-events';
import { downloadBundle, rest, waitForExport } from '../support/export-client';
import { makeTempDir } from '../../testkit/temp-dir';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

describe('the export worker: takeover, giving up, failures', () => {
  let env: TestStack;
  let db: Database;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let auditor: string;

  /** A tenant with a few events; returns its id and head. */
  async function tenantWithEvents(): Promise<{ tenant: string; head: number }> {
    const tenant = uniqueId('w');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
    for (let i = 0; i < 3; i += 1) {
      expect(
        (
          await env.gql(CREATE_WORKLOAD, {
            input: { tenantId: tenant, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
          })
        ).errors,
      ).toBeUndefined();
    }
    return { tenant, head: (await chainEvents(env, tenant)).length };
  }

  /** An export row as a worker of another (now dead) process left it. */
  async function abandoned(tenant: string, head: number, attempts: number): Promise<string> {
    const id = `exp-${randomUUID()}`;
    await db.prisma.evidenceExport.create({
      data: {
        id,
        tenantId: tenant,
        chainId: `ecs:tenant:${tenant}`,
        profileId: 'ecs-evidence-baseline',
        fromSequence: 1,
        toSequence: head,
        state: 'running',
        principal: 'sub:elsewhere|auditor',
        actor: 'auditor@elsewhere',
        correlationId: randomUUID(),
        requestEvidencePointer: `eosc://evidence/sha256:${'a'.repeat(64)}`,
        attempts,
        heartbeatAt: new Date(Date.now() - 10 * 60_000),
      },
    });
    return id;
  }

  beforeAll(async () => {
    env = await startTestStack({ env: { EXPORT_POLL_MS: '100', EXPORT_STALE_MS: '500' } });
    db = env.stack.services.db;
    temp = await makeTempDir('ecs-export-worker-');
    auditor = await env.token('auditor');
  });
  afterAll(async () => {
    await env.stop();
    await temp.remove();
  });

  it('takes over an export whose worker went silent and completes it, fenced by the claim count', async () => {
    const { tenant, head } = await tenantWithEvents();
    const id = await abandoned(tenant, head, 1);
    const done = await waitForExport(env, auditor, id);
    expect(done).toMatchObject({ state: 'completed', events_done: head });
    expect((await db.prisma.evidenceExport.findUniqueOrThrow({ where: { id } })).attempts).toBe(2);
    const completed = (await chainEvents(env, tenant)).filter((event) => event.details.export_id === id);
    expect(completed.map((event) => event.details.export_phase)).toEqual(['completed']);
  });

  it('gives up after three claims', async () => {
    const { tenant, head } = await tenantWithEvents();
    const id = await abandoned(tenant, head, 3);
    const done = await waitForExport(env, auditor, id);
    expect(done).toMatchObject({ state: 'failed', error: expect.stringMatching(/gave up after 3 attempts/) });
    const failed = (await chainEvents(env, tenant)).filter((event) => event.details.export_id === id);
    expect(failed).toEqual([
      expect.objectContaining({
        eventType: 'evidence.export',
        outcome: 'failed',
        details: expect.objectContaining({ export_phase: 'failed' }),
      }),
    ]);
  });

  it('fails an export whose chain lost an artifact, with evidence, and its bundle is 409', async () => {
    const { tenant } = await tenantWithEvents();
    const events = await chainEvents(env, tenant);
    await db.prisma.$executeRawUnsafe('ALTER TABLE audit_evidence_artifacts DISABLE TRIGGER audit_evidence_artifacts_append_only');
    try {
      await db.prisma.$executeRawUnsafe('DELETE FROM audit_evidence_artifacts WHERE pointer = $1', events[1]!.evidencePointer);
    } finally {
      await db.prisma.$executeRawUnsafe('ALTER TABLE audit_evidence_artifacts ENABLE TRIGGER audit_evidence_artifacts_append_only');
    }
    const created = await rest(env, auditor, 'POST', '/v1/exports', { tenant_id: tenant, evidence_profile_id: 'ecs-evidence-baseline' });
    expect(created.status).toBe(202);
    const done = await waitForExport(env, auditor, String(created.json.id));
    expect(done).toMatchObject({ state: 'failed', error: expect.stringContaining(`no artifact for ${events[1]!.evidencePointer}`) });
    expect(done.bundle_url).toBeUndefined();
    const bundle = await downloadBundle(env, auditor, String(created.json.id), path.join(temp.path, 'failed'));
    expect(bundle.status).toBe(409);
    const closing = (await chainEvents(env, tenant))
      .filter((event) => event.details.export_id === created.json.id)
      .map((event) => [event.outcome, event.details.export_phase]);
    expect(closing).toEqual([
      ['accepted', 'requested'],
      ['failed', 'failed'],
    ]);
  });
});
