// `ecs verify <bundle> [--json] [--jwks <file>] [--strict] [--progress | --no-progress]`,
// `ecs verify <source bundle> <target bundle> [--source-jwks <file>] ...` (a migrated
// tenant's two chains and the link between them, lib/bundle/migration-link.ts) and
// `ecs verify-proof <proof.json> [--jwks <file>] [--json]`: offline checks of evidence
// bundles and Merkle proofs. Exit 0 when valid, 1 listing every failed check, 2 for a wrong
// command line. Progress goes to stderr only, so stdout stays the report (or the JSON).
import { access, readFile } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import type { BundleCheck } from '../lib/bundle/findings';
import { verifyMigrationBundles } from '../lib/bundle/migration-link';
import type { MigrationVerifyResult } from '../lib/bundle/migration-link';
import { verifyBundlePath } from '../lib/bundle/verify-bundle';
import type { VerifyOptions, VerifyProgress, VerifyResult } from '../lib/bundle/verify-bundle';
import { progressLine } from '../lib/bundle/verify-progress';
import { JwsError, parseJwks } from '../lib/keys/verify-jws';
import { verifyProofDocument } from '../lib/proofs/proof-document';
import { type CommandSpec, commandHelp, parseCommand } from './args';
import { UsageError } from './usage-error';

export const VERIFY_SPEC: CommandSpec = {
  name: 'verify',
  summary: "verify an evidence bundle offline (a directory or a .tar.gz), or a migrated tenant's source and target bundles",
  positionals: ['bundle', '[target]'],
  options: {
    json: { type: 'boolean', description: 'print the report as JSON on stdout' },
    jwks: {
      type: 'string',
      valueName: 'file',
      description: "check signatures against the public keys in this JWKS file (two bundles: both, or the target's with --source-jwks)",
    },
    'source-jwks': {
      type: 'string',
      valueName: 'file',
      description: "two bundles: check the source bundle's signature against this JWKS (the source deployment's keys)",
    },
    strict: { type: 'boolean', description: 'fail when the bundle does not cover its chain from the first event' },
    progress: {
      type: 'boolean',
      negatable: true,
      description: 'show progress on stderr (default: on a terminal only, after one second)',
    },
  },
  notes: [
    'two bundles (ecs verify <source bundle> <target bundle>): each is verified as on its own, then the link:',
    '  a migration.import event of the target chain names the source chain, and the source bundle holds',
    '  the event at its source_head_sequence with event_hash source_head_hash; valid when all three pass',
    'exit codes: 0 valid, 1 failed checks (each one listed), 2 wrong command line',
  ],
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
  /** The first path (the only one of `verify-proof`). */
  target: string;
  /** Every path given: one, or a source and a target bundle. */
  paths: string[];
  json: boolean;
  strict: boolean;
  /** `--progress` (true), `--no-progress` (false), or neither: on a terminal only. */
  progress?: boolean;
  jwks?: JSONWebKeySet;
  sourceJwks?: JSONWebKeySet;
}

/** The command's options, or `undefined` after printing its help. */
async function parse(spec: CommandSpec, args: readonly string[]): Promise<Parsed | undefined> {
  const parsed = parseCommand(spec, args);
  if (!parsed) {
    console.log(commandHelp(spec));
    return undefined;
  }
  const paths = parsed.positionals;
  for (const path of paths) {
    await access(path).catch(() => {
      throw new UsageError(`${path} does not exist`);
    });
  }
  const progress = parsed.flags.get('progress');
  const jwksFile = parsed.strings.get('jwks');
  const sourceJwksFile = parsed.strings.get('source-jwks');
  if (sourceJwksFile !== undefined && paths.length < 2)
    throw new UsageError('--source-jwks needs two bundles: ecs verify <source bundle> <target bundle>');
  return {
    target: paths[0]!,
    paths,
    json: parsed.flags.get('json') === true,
    strict: parsed.flags.get('strict') === true,
    ...(progress === undefined ? {} : { progress }),
    ...(jwksFile === undefined ? {} : { jwks: await readJwks(jwksFile) }),
    ...(sourceJwksFile === undefined ? {} : { sourceJwks: await readJwks(sourceJwksFile, '--source-jwks') }),
  };
}

async function readJwks(file: string, option = '--jwks'): Promise<JSONWebKeySet> {
  try {
    return parseJwks(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    const reason = error instanceof JwsError || error instanceof SyntaxError ? error.message : (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${option} ${file} is not a usable JWKS: ${String(reason)}`);
  }
}

/** The human-readable report of a set of checks: a summary line, then failures and warnings. */
function reportLines(what: string, checks: BundleCheck[]): string[] {
  const ok = checks.every((check) => check.ok);
  const failed = checks.filter((check) => !check.ok);
  return [
    ok ? `${what}: VALID (${checks.length} checks passed)` : `${what}: INVALID (${failed.length} of ${checks.length} checks failed)`,
    ...failed.map((check) => `  FAIL ${check.name}: ${check.detail}`),
    ...checks.filter((item) => item.ok && item.warning).map((check) => `  warn ${check.name}: ${check.detail}`),
  ];
}

function report(what: string, checks: BundleCheck[], json: boolean, extra: Record<string, unknown>): number {
  const ok = checks.every((check) => check.ok);
  if (json) console.log(JSON.stringify({ ok, ...extra, checks }, null, 2));
  else for (const line of reportLines(what, checks)) console.log(line);
  return ok ? 0 : 1;
}

/** A bundle's report as `--json` prints it for one bundle. */
const bundleReport = (result: VerifyResult) => ({ ok: result.ok, events: result.events, checks: result.checks });

/**
 * Two bundles: each one's report as on its own (`source`, `target`), then the link line
 * and the verdict; as JSON, `{source, target, link, ok}`.
 */
function reportMigration(result: MigrationVerifyResult, sourcePath: string, targetPath: string, json: boolean): number {
  if (json) {
    const { source, target, link, ok } = result;
    console.log(JSON.stringify({ source: bundleReport(source), target: bundleReport(target), link, ok }, null, 2));
    return result.ok ? 0 : 1;
  }
  const lines = [
    ...reportLines(`source bundle ${sourcePath} (${result.source.events} events)`, result.source.checks),
    ...reportLines(`target bundle ${targetPath} (${result.target.events} events)`, result.target.checks),
    result.link.ok ? `link: ${result.link.detail}` : `link: FAIL ${result.link.detail}`,
  ];
  const failed = [
    ...(result.source.ok ? [] : ['source bundle']),
    ...(result.target.ok ? [] : ['target bundle']),
    ...(result.link.ok ? [] : ['link']),
  ];
  lines.push(
    result.ok
      ? 'verdict: VALID (both bundles verify and the target chain continues the source chain)'
      : `verdict: INVALID (failed: ${failed.join(', ')})`,
  );
  for (const line of lines) console.log(line);
  return result.ok ? 0 : 1;
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

  /** `label` names the bundle when there are two (`verifying target: ...`). */
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly delayMs: number,
    private readonly label?: string,
  ) {}

  update = (progress: Readonly<VerifyProgress>): void => {
    const now = Date.now();
    if (progress.stage === 'events') this.passStarted ??= { at: now, events: progress.events };
    this.last = { ...progress };
    if (now - this.started < this.delayMs || now - this.shown < (this.stream.isTTY ? 250 : 5000)) return;
    this.shown = now;
    // The line fits what is left of the terminal's width after the `verifying <label>: ` prefix.
    const prefix = this.label ? this.label.length + 12 : 11;
    this.write(progressLine(progress, this.rate(progress.events, now), (this.stream.columns || 80) - prefix - 1));
  };

  finish(): void {
    if (this.stream.isTTY) {
      if (this.drawn) this.stream.write('\r\u001b[K');
    } else if (this.last) {
      const seconds = (Date.now() - this.started) / 1000;
      const events = this.last.events.toLocaleString('en-US');
      this.stream.write(`verified ${this.label ? `${this.label}: ` : ''}${events} events in ${seconds.toFixed(1)} s\n`);
    }
  }

  private rate(events: number, now: number): number | undefined {
    if (!this.passStarted || now - this.passStarted.at < 500) return undefined;
    return ((events - this.passStarted.events) * 1000) / (now - this.passStarted.at);
  }

  private write(line: string): void {
    const prefix = this.label ? `verifying ${this.label}:` : 'verifying:';
    if (!this.stream.isTTY) {
      this.stream.write(`${prefix} ${line}\n`);
      return;
    }
    const columns = this.stream.columns || 80;
    this.stream.write(`\r\u001b[K${prefix} ${line}`.slice(0, columns + 3));
    this.drawn = true;
  }
}

/** A progress display on stderr when asked for (`--progress`) or on a terminal. */
function progressDisplay(options: Parsed, label?: string): ProgressDisplay | undefined {
  const shown = options.progress ?? process.stderr.isTTY === true;
  return shown ? new ProgressDisplay(process.stderr, options.progress ? 0 : PROGRESS_DELAY_MS, label) : undefined;
}

export async function verify(args: readonly string[]): Promise<number> {
  const options = await parse(VERIFY_SPEC, args);
  if (!options) return 0;
  if (options.paths.length === 2) return verifyMigration(options);
  const progress = progressDisplay(options);
  const result = await verifyBundlePath(options.target, {
    requireFullCoverage: options.strict,
    ...(options.jwks ? { jwks: options.jwks } : {}),
    ...(progress ? { onProgress: progress.update } : {}),
  });
  progress?.finish();
  return report(`bundle ${options.target} (${result.events} events)`, result.checks, options.json, { events: result.events });
}

/** `ecs verify <source bundle> <target bundle>`: both bundles and the link between their chains. */
async function verifyMigration(options: Parsed): Promise<number> {
  const [sourcePath, targetPath] = options.paths as [string, string];
  const displays = { source: progressDisplay(options, 'source'), target: progressDisplay(options, 'target') };
  const bundleOptions = (which: 'source' | 'target'): VerifyOptions => {
    const jwks = which === 'source' ? (options.sourceJwks ?? options.jwks) : options.jwks;
    const display = displays[which];
    return {
      requireFullCoverage: options.strict,
      ...(jwks ? { jwks } : {}),
      ...(display ? { onProgress: display.update } : {}),
    };
  };
  const result = await verifyMigrationBundles(sourcePath, targetPath, {
    source: bundleOptions('source'),
    target: bundleOptions('target'),
    onVerified: (which) => displays[which]?.finish(),
  });
  return reportMigration(result, sourcePath, targetPath, options.json);
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
