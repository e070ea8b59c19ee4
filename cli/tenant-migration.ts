// `ecs tenant export` and `ecs tenant import`: the tenant migration routes of a running gateway
// (docs/migration.md) from the command line. The bearer token comes from ECS_TOKEN, or from
// --token (which other users of the machine can read in the process list: prefer the variable).
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { type CommandSpec, commandHelp, parseCommand } from './args';
import { type Answer, TOKEN_OPTION, URL_OPTION, gatewayUrl, refused, required, tokenFrom } from './gateway-request';
import { tenantActivate, tenantComplete, tenantRollback } from './tenant-cutover';
import { UsageError } from './usage-error';

const SCENARIOS = ['full', 'data-only', 'evidence-only'];
const POLL_MS = 500;

export const TENANT_EXPORT_SPEC: CommandSpec = {
  name: 'tenant export',
  summary: "export a tenant from a running gateway into a package file (the gateway's POST /v1/migrations/exports)",
  positionals: [],
  options: {
    url: URL_OPTION,
    tenant: { type: 'string', valueName: 'id', description: 'required: the tenant to export' },
    out: { type: 'string', valueName: 'file', description: 'required: where the package goes (.tar.gz)' },
    token: TOKEN_OPTION,
    scenario: { type: 'string', valueName: 'scenario', description: `${SCENARIOS.join(', ')} (default full)` },
    timeout: { type: 'string', valueName: 'seconds', description: 'give up waiting for the package after this long (default 600)' },
  },
  notes: [
    "ECS_TOKEN (or --token): a platform administrator, or the tenant's administrator.",
    'Progress (bytes received) goes to stderr on a terminal.',
    'The package is written to <file>.partial and renamed when it is complete; the export id is printed on stdout.',
    "exit codes: 0 package written, 1 refused or failed (the gateway's error on stderr), 2 wrong command line or no token",
  ],
};

export const TENANT_IMPORT_SPEC: CommandSpec = {
  name: 'tenant import',
  summary: 'validate a tenant package on a running target gateway (POST /v1/migrations/imports) and print the report',
  positionals: [],
  options: {
    url: URL_OPTION,
    token: TOKEN_OPTION,
    package: { type: 'string', valueName: 'file', description: 'upload this package file' },
    'source-url': {
      type: 'string',
      valueName: 'url',
      description: 'or let the target pull it from the source (its .../package URL); ECS_SOURCE_TOKEN is sent there',
    },
    'source-jwks': { type: 'string', valueName: 'url', description: "required: the source deployment's /.well-known/jwks.json" },
    json: { type: 'boolean', description: 'print the report as JSON (default: one line per gate)' },
  },
  notes: [
    'ECS_TOKEN (or --token): a platform administrator of the target. ECS_SOURCE_TOKEN: the bearer token for --source-url.',
    'Progress (bytes sent) goes to stderr on a terminal.',
    'A package that passes every gate is imported at once: the tenant exists on the target as importing (then ecs tenant activate).',
    'exit codes: 0 imported, 1 refused at a gate or by the gateway, 2 wrong command line or no token',
  ],
};

/** Counts the bytes passing and, on a terminal, shows them on stderr once a second. */
function progress(label: string): Transform {
  let bytes = 0;
  let shown = 0;
  const show = () => process.stderr.write(`\r${label}: ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (process.stderr.isTTY && Date.now() - shown >= 1000) {
        shown = Date.now();
        show();
      }
      done(null, chunk);
    },
    flush(done) {
      if (process.stderr.isTTY) {
        show();
        process.stderr.write('\n');
      }
      done();
    },
  });
}

export async function tenantExport(args: readonly string[]): Promise<number> {
  const parsed = parseCommand(TENANT_EXPORT_SPEC, args);
  if (!parsed) {
    console.log(commandHelp(TENANT_EXPORT_SPEC));
    return 0;
  }
  const base = gatewayUrl(required(parsed, 'url', TENANT_EXPORT_SPEC));
  const tenantId = required(parsed, 'tenant', TENANT_EXPORT_SPEC);
  const outFile = required(parsed, 'out', TENANT_EXPORT_SPEC);
  const scenario = parsed.strings.get('scenario') ?? 'full';
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`--scenario "${scenario}" is not one of ${SCENARIOS.join(', ')}`);
  const timeoutText = parsed.strings.get('timeout') ?? '600';
  if (!/^[1-9]\d{0,5}$/.test(timeoutText)) throw new UsageError(`--timeout "${timeoutText}" is not a number of seconds`);
  const token = tokenFrom(parsed.strings.get('token'), 'ECS_TOKEN');
  const headers = { authorization: `Bearer ${token}` };

  const requested = await fetch(new URL('/v1/migrations/exports', base), {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: tenantId, scenario }),
  });
  if (requested.status !== 202) return refused(requested, 'export refused');
  const { id } = (await requested.json()) as { id: string };
  const deadline = Date.now() + Number(timeoutText) * 1000;
  for (;;) {
    const polled = await fetch(new URL(`/v1/migrations/exports/${encodeURIComponent(id)}`, base), { headers });
    if (polled.status !== 200) return refused(polled, `export ${id}`);
    const job = (await polled.json()) as { state: string; failure_reason?: string };
    if (job.state === 'completed') break;
    if (job.state === 'failed') {
      console.error(`export ${id} failed: ${job.failure_reason ?? 'no reason given'}`);
      return 1;
    }
    if (Date.now() > deadline) {
      console.error(`export ${id} is still ${job.state} after ${timeoutText} s`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const download = await fetch(new URL(`/v1/migrations/exports/${encodeURIComponent(id)}/package`, base), { headers });
  if (download.status !== 200 || !download.body) return refused(download, `package of export ${id}`);
  const partial = `${outFile}.partial`;
  try {
    await pipeline(
      Readable.fromWeb(download.body as import('node:stream/web').ReadableStream),
      progress(`package of export ${id}`),
      createWriteStream(partial),
    );
    await rename(partial, outFile);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  console.log(id);
  console.error(`package of ${tenantId} (${scenario}) written to ${outFile}: ${(await stat(outFile)).size} bytes`);
  return 0;
}

interface ImportReport {
  import_id: string;
  status: 'validated' | 'refused' | 'imported' | 'active' | 'rolled_back';
  gates: Array<{ gate: string; result: string; reason: string }>;
  evidence_pointer: string;
}

export async function tenantImport(args: readonly string[]): Promise<number> {
  const parsed = parseCommand(TENANT_IMPORT_SPEC, args);
  if (!parsed) {
    console.log(commandHelp(TENANT_IMPORT_SPEC));
    return 0;
  }
  const base = gatewayUrl(required(parsed, 'url', TENANT_IMPORT_SPEC));
  const jwks = parsed.strings.get('source-jwks');
  if (!jwks) throw new UsageError("--source-jwks is required (the source deployment's /.well-known/jwks.json)");
  const file = parsed.strings.get('package');
  const sourceUrl = parsed.strings.get('source-url');
  if ((file === undefined) === (sourceUrl === undefined)) throw new UsageError('give one of --package and --source-url');
  const token = tokenFrom(parsed.strings.get('token'), 'ECS_TOKEN');
  const headers = { authorization: `Bearer ${token}` };
  let response: Answer;
  if (file !== undefined) {
    const size = await stat(file).then(
      (found) => found.size,
      () => {
        throw new UsageError(`--package "${file}" cannot be read`);
      },
    );
    const url = new URL('/v1/migrations/imports', base);
    url.searchParams.set('source_jwks_url', jwks);
    const answer = await request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/gzip', 'content-length': String(size) },
      body: createReadStream(file).pipe(progress(`sent ${file}`)),
    });
    response = { status: answer.statusCode, json: () => answer.body.json() };
  } else {
    const sourceToken = process.env.ECS_SOURCE_TOKEN?.trim();
    response = await fetch(new URL('/v1/migrations/imports', base), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ source_url: sourceUrl, source_jwks_url: jwks, ...(sourceToken ? { source_token: sourceToken } : {}) }),
    });
  }
  if (response.status !== 200 && response.status !== 201) return refused(response, 'import refused');
  const report = (await response.json()) as ImportReport;
  if (parsed.flags.get('json')) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`${report.import_id}: ${report.status}`);
    for (const gate of report.gates) console.log(`  ${gate.result === 'pass' ? 'pass' : 'FAIL'}  ${gate.gate}: ${gate.reason}`);
    console.log(`evidence: ${report.evidence_pointer}`);
  }
  return report.status === 'refused' ? 1 : 0;
}

export const TENANT_SPEC: CommandSpec = {
  name: 'tenant',
  summary:
    'move a tenant between deployments: ecs tenant export | import | activate | complete | rollback (see ecs tenant <action> --help)',
  positionals: ['action'],
  options: {},
  notes: ['actions: export (source), import (target), activate (target), complete (source), rollback (either side, before completion)'],
};

/** `ecs tenant <action> ...`. */
export function tenant(args: readonly string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'export') return tenantExport(rest);
  if (action === 'import') return tenantImport(rest);
  if (action === 'activate') return tenantActivate(rest);
  if (action === 'complete') return tenantComplete(rest);
  if (action === 'rollback') return tenantRollback(rest);
  if (action === '--help' || action === '-h') {
    console.log(commandHelp(TENANT_SPEC));
    return Promise.resolve(0);
  }
  throw new UsageError(
    action === undefined
      ? 'usage: ecs tenant <export|import|activate|complete|rollback> [options]'
      : `unknown action "${action}" of ecs tenant (export, import, activate, complete or rollback)`,
  );
}
