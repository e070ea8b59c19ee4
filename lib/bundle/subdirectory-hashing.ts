/**
 * The files of a bundle directory's subdirectories (the artifacts: a million small files)
 * hashed in the background while the main thread checks the events. Read one by one in the
 * main thread they would add 15 µs each from the page cache, 50-130 µs from the disk, to
 * the event pass; two worker threads (subdirectory-worker.ts) walk and hash them beside
 * it instead, each writing one line per file to a file of the verification's temporary
 * directory, so memory holds none of them. Once the workers are done the lines are read
 * back as entries that carry their digest; the read limits are applied to them then, and
 * their count is the measure of progress from then on (`BundleMeter` in files).
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BundleReadError, fileLines } from './bundle';
import type { BundleEntry, ReadLimits } from './bundle';
import { diskFileChunks } from './disk-file';
import { MAX_DEPTH, pathKey } from './directory-walk';
import type { ReadBudget } from './directory-walk';
import { Spool } from './spool';
import { SUBDIRECTORY_WORKER_SOURCE } from './subdirectory-worker';
import type { TempSpace } from './temp-space';

/** Two threads keep two reads in flight; more add memory (an isolate each) and little speed. */
const MAX_WORKERS = 2;
/** A worker holds a 64 KiB buffer and a few lines: small heaps keep each thread small. */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 };

interface Refusal {
  reason: 'symlink' | 'special' | 'large' | 'changed' | 'deep' | 'files' | 'unreadable';
  name: string;
  code?: string;
}

function readError({ reason, name, code }: Refusal, limits: ReadLimits): BundleReadError {
  const messages: Record<Refusal['reason'], string> = {
    symlink: `${name} is a symbolic link`,
    special: `${name} is not a regular file`,
    large: `${name} is larger than ${limits.maxFileBytes} bytes`,
    changed: `${name} changed while it was read`,
    deep: `${name} is nested too deep`,
    files: `bundle holds more than ${limits.maxFiles} files`,
    unreadable: `cannot read ${name}: ${code ?? 'unknown error'}`,
  };
  return new BundleReadError(messages[reason]);
}

export class SubdirectoryHashing {
  private readonly workers: Worker[] = [];
  private readonly outputs: string[] = [];
  private readonly finished: Promise<void>;
  private failure: BundleReadError | undefined;
  /** Files hashed by all workers (the lines of their outputs). */
  private hashed = 0;

  /** Starts at once (no thread when there is no subdirectory). `rootFiles` count toward the file limit. */
  constructor(
    private readonly root: string,
    directories: readonly string[],
    rootFiles: number,
    private readonly limits: ReadLimits,
    space: TempSpace,
  ) {
    const parts = directories.length === 0 ? 0 : Math.max(1, Math.min(MAX_WORKERS, availableParallelism()));
    const runs: Array<Promise<void>> = [];
    for (let part = 0; part < parts; part += 1) {
      const output = space.file(`hashed-${part}`);
      const workerData = {
        root,
        directories,
        part,
        parts,
        output,
        maxFileBytes: limits.maxFileBytes,
        maxFiles: limits.maxFiles - rootFiles,
        maxDepth: MAX_DEPTH,
      };
      const worker = new Worker(SUBDIRECTORY_WORKER_SOURCE, { eval: true, workerData, resourceLimits: RESOURCE_LIMITS });
      this.workers.push(worker);
      this.outputs.push(output);
      runs.push(this.outcome(worker));
    }
    this.finished = Promise.all(runs).then(() => undefined);
  }

  /** The hashed files, once all are hashed, counted against `budget`; throws the first refusal met. */
  async *entries(budget: ReadBudget): AsyncGenerator<BundleEntry> {
    await this.finished;
    if (this.failure) throw this.failure;
    const meter = { read: 0, size: this.hashed, unit: 'files' as const };
    for (const output of this.outputs) {
      for await (const { text } of fileLines(Spool.fromFile(output), Number.MAX_SAFE_INTEGER)) {
        const [name, size, digest] = JSON.parse(text) as [string, number, string];
        budget.add(name, size);
        const file = path.join(this.root, name);
        meter.read += 1;
        yield { name, size, digest, key: pathKey(name), meter, chunks: () => diskFileChunks(name, file, size) };
      }
    }
  }

  /** Stops the workers (when the verification ends early). */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /** Settles when the worker is done; a refusal (the first of all workers) is kept for `entries`. */
  private outcome(worker: Worker): Promise<void> {
    return new Promise((resolve) => {
      worker.once('message', (message: { done?: true; hashed?: number; refusal?: Refusal }) => {
        this.hashed += message.hashed ?? 0;
        if (message.refusal) {
          this.failure ??= readError(message.refusal, this.limits);
          // One refusal is the verdict: the other workers need not finish.
          for (const other of this.workers) if (other !== worker) void other.terminate();
        }
      });
      worker.once('error', (error) => {
        this.failure ??= new BundleReadError(`cannot read ${this.root}: ${error.message}`);
      });
      worker.once('exit', () => resolve());
    });
  }
}
