import { randomUUID } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExportJobStore } from '../../app/migration/export-job-store';
import { INTERRUPTED_EXPORT_ERROR, queuedStatus } from '../../lib/migration/export-jobs';
import type { MigrationExportStatus } from '../../lib/migration/export-jobs';
import { makeTempDir } from '../../testkit/temp-dir';

describe('tenant export job statuses saved beside their packages (export-job-store.ts)', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  const newStatus = (): MigrationExportStatus => queuedStatus({ id: `mex-${randomUUID()}`, tenantId: 'acme', scenario: 'full' });

  beforeEach(async () => {
    temp = await makeTempDir('ecs-export-store-');
  });
  afterEach(async () => {
    await temp.remove();
  });

  it('a status saved by one process is read back by the next, with its cutover; no partial file remains', async () => {
    const status = newStatus();
    Object.assign(status, {
      state: 'completed',
      completed_at: new Date().toISOString(),
      package_digest: `sha256:${'a'.repeat(64)}`,
      package_url: `/v1/migrations/exports/${status.id}/package`,
      cutover: 'completed',
      migrated_to: 'https://target.example.eu/v1/tenants/acme',
      cutover_at: new Date().toISOString(),
      cutover_evidence_pointer: `eosc://evidence/sha256:${'b'.repeat(64)}`,
    });
    const first = new ExportJobStore(temp.path);
    await first.save(status);
    const second = new ExportJobStore(temp.path);
    expect(await second.load(status.id)).toEqual(status);
    expect(await readdir(temp.path)).toEqual([`${status.id}.json`]);
  });

  it('saves of one job land in the order they were asked, each the status as it was then', async () => {
    const store = new ExportJobStore(temp.path);
    const status = newStatus();
    const saves = [store.save(status)];
    status.state = 'running';
    saves.push(store.save(status));
    status.state = 'failed';
    status.error = 'boom';
    saves.push(store.save(status));
    status.error = 'changed after the last save';
    await Promise.all(saves);
    await store.flush();
    const saved = JSON.parse(await readFile(path.join(temp.path, `${status.id}.json`), 'utf8')) as MigrationExportStatus;
    expect(saved).toMatchObject({ state: 'failed', error: 'boom' });
  });

  it('a job saved queued or running was interrupted: it answers failed, without a package, and its file is left as it was', async () => {
    const store = new ExportJobStore(temp.path);
    for (const state of ['queued', 'running'] as const) {
      const status = { ...newStatus(), state };
      await store.save(status);
      const file = path.join(temp.path, `${status.id}.json`);
      const before = await readFile(file, 'utf8');
      expect(await new ExportJobStore(temp.path).load(status.id)).toEqual({
        ...status,
        state: 'failed',
        error: INTERRUPTED_EXPORT_ERROR,
        package_url: null,
      });
      expect(await readFile(file, 'utf8')).toBe(before);
    }
  });

  it('knows nothing of an id it never saved, a malformed id, or a file that is not a status of that id', async () => {
    const store = new ExportJobStore(temp.path);
    expect(await store.load(`mex-${randomUUID()}`)).toBeUndefined();
    expect(await store.load('../../etc/passwd')).toBeUndefined();
    const broken = `mex-${randomUUID()}`;
    await writeFile(path.join(temp.path, `${broken}.json`), '{"id": "mex-');
    expect(await store.load(broken)).toBeUndefined();
    const other = newStatus();
    const renamed = `mex-${randomUUID()}`;
    await writeFile(path.join(temp.path, `${renamed}.json`), JSON.stringify(other));
    expect(await store.load(renamed)).toBeUndefined();
  });
});
