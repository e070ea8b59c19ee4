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
import { type CommandSpec, commandHelp, parseCommand } from './args';
import { UsageError } from './usage-error';

export const VERIFY_SPEC: CommandSpec = {
  name: 'verify',
  summary: 'verify an evidence bundle offline (a directory or a .tar.gz)',
  positionals: ['bundle'],
  options: {
    json: { type: 'boolean', description: 'print the report as JSON on stdout' },
    jwks: { type: 'string', valueName: 'file', description: 'check signatures against the public keys in this JWKS file' },
    strict: { type: 'boolean', description: 'fail when the bundle does not cover its chain from the first event' },
    progress: {
      type: 'boolean',
      negatable: true,
      description: 'show progress on stderr (default: on a terminal only, after one second)',
    },
  },
  notes: ['exit codes: 0 valid, 1 failed checks (each one listed), 2 wrong command line'],
};

export const VERIFY_PROOF_SPEC: CommandSpec = {
  name: 'verify-proof',
  summary: 'verify a Merkle inclusion or consistency proof document offline',
  positionals: ['proof.json'],
  options: {
    json: { type: 'boolean', description: 'print the report as JSON on stdout' },
    jwks: { type: 'string', valueName: 'file', description: 'check the signed tree head against the public keys in this JWKS file' },
  },
  notes: ['exit codes: 0 valid, 1 failed checks (each one listed), 2 wrong command line'],
};

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

/** The command's options, or `undefined` after printing its help. */
async function parse(spec: CommandSpec, args: readonly string[]): Promise<Parsed | undefined> {
  const parsed = parseCommand(spec, args);
  if (!parsed) {
    console.log(commandHelp(spec));
    return undefined;
  }
  const target = parsed.positionals[0]!;
  await access(target).catch(() => {
    throw new UsageError(`${target} does not exist`);
  });
  const progress = parsed.flags.get('progress');
  const jwksFile = parsed.strings.get('jwks');
  return {
    target,
    json: parsed.flags.get('json') === true,
    strict: parsed.flags.get('strict') === true,
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

export async function verify(args: readonly string[]): Promise<number> {
  const options = await parse(VERIFY_SPEC, args);
  if (!options) return 0;
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

export async function verifyProof(args: readonly string[]): Promise<number> {
  const options = await parse(VERIFY_PROOF_SPEC, args);
  if (!options) return 0;
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
