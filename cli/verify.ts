// `ecs verify <bundle> [--json] [--jwks <file>] [--strict] [--progress | --no-progress]` and
// `ecs verify-proof <proof.json> [--jwks <file>] [--json]`: offline checks of evidence
// bundles and Merkle proofs. Exit 0 when valid, 1 listing every failed check, 2 for a wrong
// command line. Progress goes to stderr only, so stdout stays the report (or the JSON).
import { access, readFile } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import type { BundleCheck } from '../lib/bundle/findings';
import { verifyBundlePath } from '../lib/bundle/verify-bundle';
import type { VerifyProgress } from '../lib/bundle/verify-bundle';
import { progressLine } from '../lib/bundle/verify-progress';
import { JwsError, parseJwks } from '../lib/keys/verify-jws';
import { verifyProofDocument } from '../lib/proofs/proof-document';
import { UsageError } from './usage-error';

export const VERIFY_USAGE = 'ecs verify <bundle directory | .tar.gz> [--json] [--jwks <file>] [--strict] [--progress | --no-progress]';
export const VERIFY_PROOF_USAGE = 'ecs verify-proof <proof.json> [--json] [--jwks <file>]';

/** Largest proof document read (a proof is a few kilobytes). */
const MAX_PROOF_BYTES = 1024 * 1024;

/** Progress of a long verification, on stderr: shown on a terminal only, unless asked for. */
const PROGRESS_DELAY_MS = 1000;

interface Parsed {
  target: string;
  json: boolean;
  strict: boolean;
  /** `--progress` (true), `--no-progress` (false), or neither: on a terminal only. */
  progress?: boolean;
  jwks?: JSONWebKeySet;
}

async function parse(args: string[], usage: string, bundle: boolean): Promise<Parsed> {
  let target: string | undefined;
  let jwksFile: string | undefined;
  let json = false;
  let strict = false;
  let progress: boolean | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--json') json = true;
    else if (arg === '--strict' && bundle) strict = true;
    else if ((arg === '--progress' || arg === '--no-progress') && bundle) {
      if (progress !== undefined) throw new UsageError('--progress or --no-progress is given twice');
      progress = arg === '--progress';
    } else if (arg === '--jwks' || arg.startsWith('--jwks=')) {
      if (jwksFile !== undefined) throw new UsageError('--jwks is given twice');
      jwksFile = arg === '--jwks' ? args[++index] : arg.slice('--jwks='.length);
      if (!jwksFile) throw new UsageError('--jwks needs a file');
    } else if (arg.startsWith('-') || target !== undefined) throw new UsageError(`unexpected argument "${arg}" (usage: ${usage})`);
    else target = arg;
  }
  if (target === undefined) throw new UsageError(`usage: ${usage}`);
  await access(target).catch(() => {
    throw new UsageError(`${target} does not exist`);
  });
  return {
    target,
    json,
    strict,
    ...(progress === undefined ? {} : { progress }),
    ...(jwksFile === undefined ? {} : { jwks: await readJwks(jwksFile) }),
  };
}

async function readJwks(file: string): Promise<JSONWebKeySet> {
  try {
    return parseJwks(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    const reason = error instanceof JwsError || error instanceof SyntaxError ? error.message : (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--jwks ${file} is not a usable JWKS: ${String(reason)}`);
  }
}

function report(what: string, checks: BundleCheck[], json: boolean, extra: Record<string, unknown>): number {
  const ok = checks.every((check) => check.ok);
  if (json) {
    console.log(JSON.stringify({ ok, ...extra, checks }, null, 2));
    return ok ? 0 : 1;
  }
  const failed = checks.filter((check) => !check.ok);
  console.log(
    ok ? `${what}: VALID (${checks.length} checks passed)` : `${what}: INVALID (${failed.length} of ${checks.length} checks failed)`,
  );
  for (const check of failed) console.log(`  FAIL ${check.name}: ${check.detail}`);
  for (const check of checks.filter((item) => item.ok && item.warning)) console.log(`  warn ${check.name}: ${check.detail}`);
  return ok ? 0 : 1;
}

/**
 * Shows how far a verification has gone on stderr. On a terminal: one line redrawn in
 * place, from the first second on (a short verification shows nothing), erased at the end.
 * Elsewhere (`--progress` into a file or a pipe): a line every few seconds and a last one.
 */
export class ProgressDisplay {
  private readonly started = Date.now();
  private shown = 0;
  private drawn = false;
  private passStarted: { at: number; events: number } | undefined;
  private last: VerifyProgress | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly delayMs: number,
  ) {}

  update = (progress: Readonly<VerifyProgress>): void => {
    const now = Date.now();
    if (progress.stage === 'events') this.passStarted ??= { at: now, events: progress.events };
    this.last = { ...progress };
    if (now - this.started < this.delayMs || now - this.shown < (this.stream.isTTY ? 250 : 5000)) return;
    this.shown = now;
    this.write(progressLine(progress, this.rate(progress.events, now)));
  };

  finish(): void {
    if (this.stream.isTTY) {
      if (this.drawn) this.stream.write('\r\u001b[K');
    } else if (this.last) {
      const seconds = (Date.now() - this.started) / 1000;
      const events = this.last.events.toLocaleString('en-US');
      this.stream.write(`verified ${events} events in ${seconds.toFixed(1)} s\n`);
    }
  }

  private rate(events: number, now: number): number | undefined {
    if (!this.passStarted || now - this.passStarted.at < 500) return undefined;
    return ((events - this.passStarted.events) * 1000) / (now - this.passStarted.at);
  }

  private write(line: string): void {
    if (!this.stream.isTTY) {
      this.stream.write(`verifying: ${line}\n`);
      return;
    }
    const columns = this.stream.columns || 80;
    this.stream.write(`\r\u001b[Kverifying: ${line}`.slice(0, columns + 3));
    this.drawn = true;
  }
}

export async function verify(args: string[]): Promise<number> {
  const options = await parse(args, VERIFY_USAGE, true);
  const shown = options.progress ?? process.stderr.isTTY === true;
  const progress = shown ? new ProgressDisplay(process.stderr, options.progress ? 0 : PROGRESS_DELAY_MS) : undefined;
  const result = await verifyBundlePath(options.target, {
    requireFullCoverage: options.strict,
    ...(options.jwks ? { jwks: options.jwks } : {}),
    ...(progress ? { onProgress: progress.update } : {}),
  });
  progress?.finish();
  return report(`bundle ${options.target} (${result.events} events)`, result.checks, options.json, { events: result.events });
}

export async function verifyProof(args: string[]): Promise<number> {
  const options = await parse(args, VERIFY_PROOF_USAGE, false);
  let document: unknown;
  try {
    const bytes = await readFile(options.target);
    if (bytes.length > MAX_PROOF_BYTES) throw new Error(`larger than ${MAX_PROOF_BYTES} bytes`);
    document = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return report(
      `proof ${options.target}`,
      [{ name: 'proof', ok: false, detail: `unreadable: ${(error as Error).message}` }],
      options.json,
      {},
    );
  }
  const checks = await verifyProofDocument(document, options.jwks ? { jwks: options.jwks } : {});
  return report(`proof ${options.target}`, checks, options.json, {});
}
