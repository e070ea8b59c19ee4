import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { INTERRUPTED_EXPORT_ERROR, MIGRATION_EXPORT_ID } from '../../lib/migration/export-jobs';
import type { MigrationExportStatus } from '../../lib/migration/export-jobs';

/**
 * Tenant export job statuses as `<dir>/<id>.json`, written through `<id>.json.partial` and
 * renamed, so a file is always a whole status: a restart (or another process on the same
 * data directory) still answers a job and its cutover.
 * TODO(issue 20): a table, so that replicas on different data directories share the jobs.
 */
export class ExportJobStore {
  /** The last write of each job, so that writes of one job land in the order they were asked. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(private readonly dir: string) {}

  /** Saves the status as it is now (later changes to the object are not written until saved again). */
  save(status: MigrationExportStatus): Promise<void> {
    const text = `${JSON.stringify(status, null, 2)}\n`;
    const file = path.join(this.dir, `${status.id}.json`);
    const previous = this.writes.get(status.id) ?? Promise.resolve();
    const write = previous
      .catch(() => undefined)
      .then(async () => {
        await mkdir(this.dir, { recursive: true });
        await writeFile(`${file}.partial`, text);
        await rename(`${file}.partial`, file);
      });
    this.writes.set(status.id, write);
    const forget = (): void => {
      if (this.writes.get(status.id) === write) this.writes.delete(status.id);
    };
    write.then(forget, forget);
    return write;
  }

  /**
   * The status saved for `id`, or undefined. The caller does not know this job, so its
   * process is gone: a job saved `queued` or `running` was interrupted and answers `failed`
   * (nothing is written; its partial package, if any, is never served).
   */
  async load(id: string): Promise<MigrationExportStatus | undefined> {
    if (!MIGRATION_EXPORT_ID.test(id)) return undefined;
    let status: MigrationExportStatus;
    try {
      status = JSON.parse(await readFile(path.join(this.dir, `${id}.json`), 'utf8')) as MigrationExportStatus;
    } catch {
      return undefined;
    }
    if (status.id !== id) return undefined;
    if (status.state === 'queued' || status.state === 'running')
      return { ...status, state: 'failed', error: INTERRUPTED_EXPORT_ERROR, package_url: null };
    return status;
  }

  /** Waits for the writes under way. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes.values()]);
  }
}
