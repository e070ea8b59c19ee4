/**
 * A file writer that respects back-pressure and hashes what it writes, so a bundle file of
 * any size is written and digested in one pass without being held in memory.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export class HashingWriter {
  private readonly stream;
  private readonly hash = createHash('sha256');
  private failure: Error | undefined;

  constructor(file: string) {
    this.stream = createWriteStream(file, { flags: 'wx', highWaterMark: 1 << 20 });
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  async write(text: string | Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    this.hash.update(text);
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  /** Closes the file; returns `sha256:<hex>` of everything written. */
  async close(): Promise<string> {
    if (this.failure) throw this.failure;
    this.stream.end();
    await once(this.stream, 'finish');
    return `sha256:${this.hash.digest('hex')}`;
  }

  /** Closes without caring about the result (on an error path). */
  abort(): void {
    this.stream.destroy();
  }
}
