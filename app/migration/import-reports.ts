import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImportReport } from '../../lib/migration/import-report';

/**
 * Import reports of this gateway process: in memory and as `<dir>/<id>.json`, so a restart
 * (or another process on the same data directory) still answers them.
 * TODO(issue 20): a table once imports materialise tenants (Prisma schema change).
 */
export class ImportReports {
  private readonly reports = new Map<string, ImportReport>();

  constructor(private readonly dir: string) {}

  async save(report: ImportReport): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, `${report.import_id}.json`);
    await writeFile(`${file}.partial`, `${JSON.stringify(report, null, 2)}\n`);
    await rename(`${file}.partial`, file);
    this.reports.set(report.import_id, report);
  }

  async find(id: string): Promise<ImportReport | undefined> {
    const known = this.reports.get(id);
    if (known) return known;
    try {
      const report = JSON.parse(await readFile(path.join(this.dir, `${id}.json`), 'utf8')) as ImportReport;
      this.reports.set(id, report);
      return report;
    } catch {
      return undefined;
    }
  }
}
