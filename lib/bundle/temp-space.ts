/**
 * A private temporary directory for what a verification must put aside (spooled files,
 * spilled indexes), created on first use and removed when the verification ends. Disk,
 * not memory, absorbs whatever grows with the length of the chain.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export class TempSpace {
  private dir: string | undefined;
  private files = 0;

  constructor(private readonly prefix = 'ecs-verify-') {}

  /** A fresh file path (nothing is created but the directory). */
  file(label: string): string {
    this.dir ??= mkdtempSync(path.join(os.tmpdir(), this.prefix));
    this.files += 1;
    return path.join(this.dir, `${this.files}-${label}`);
  }

  async remove(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
