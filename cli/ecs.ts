// The `ecs` command line: `ecs migrate` applies the committed migrations to the
// configured database (DATABASE_URL, or the embedded one under DATA_DIR); `ecs token`
// prints an access token from the development issuer (key under DATA_DIR/keys);
// `ecs verify` and `ecs verify-proof` check evidence bundles and Merkle proofs offline.
import { DEV_ISSUER, devIssuerFile, loadDevIssuer } from '../lib/auth/dev-issuer';
import { KNOWN_ROLES } from '../lib/auth/token-verifier';
import type { Role } from '../lib/auth/token-verifier';
import { ConfigError, loadConfig } from '../lib/config/config';
import { openDatabase } from '../lib/db/database';
import { UsageError } from './usage-error';
import { VERIFY_PROOF_USAGE, VERIFY_USAGE, verify, verifyProof } from './verify';

const USAGE = `usage: ecs <command>

commands:
  migrate    apply the committed database migrations (DATABASE_URL or DATA_DIR)
  token      print an access token from the development issuer (DATA_DIR/keys/dev-issuer.json):
             ecs token --role <${KNOWN_ROLES.join('|')}> [--tenant <id>] [--ttl 1h]
                       [--subject <sub>] [--audience <aud>]
             --ttl: 90s, 15m, 1h or 2d (at most 30d); defaults: subject dev-<role>, audience ecs-gateway
  verify     verify an evidence bundle offline (exit 0 valid, 1 invalid, 2 usage):
             ${VERIFY_USAGE}
  verify-proof  verify a Merkle inclusion or consistency proof document:
             ${VERIFY_PROOF_USAGE}`;

const MAX_TTL_SECONDS = 30 * 24 * 3600;
const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;
const TOKEN_OPTIONS = new Set(['role', 'tenant', 'ttl', 'subject', 'audience']);

function parseTtl(value: string): number {
  const match = /^([1-9]\d{0,7})([smhd])$/.exec(value);
  if (!match) throw new UsageError(`--ttl "${value}" is not a duration like 90s, 15m, 1h or 2d`);
  const seconds = Number(match[1]) * TTL_UNITS[match[2]!]!;
  if (seconds > MAX_TTL_SECONDS) throw new UsageError(`--ttl "${value}" is longer than 30 days`);
  return seconds;
}

/** `--name value` or `--name=value`, each option at most once. */
function parseOptions(args: string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    const match = /^--([a-z]+)(?:=(.*))?$/s.exec(arg);
    if (!match || !TOKEN_OPTIONS.has(match[1]!)) throw new UsageError(`unknown argument "${arg}" (see ecs help)`);
    const name = match[1]!;
    let value = match[2];
    if (value === undefined) {
      value = args[index + 1];
      index += 1;
    }
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    if (options.has(name)) throw new UsageError(`--${name} is given twice`);
    options.set(name, value);
  }
  return options;
}

async function token(args: string[]): Promise<number> {
  const options = parseOptions(args);
  const role = options.get('role');
  if (role === undefined) throw new UsageError(`--role is required (one of ${KNOWN_ROLES.join(', ')})`);
  if (!(KNOWN_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role "${role}" is not one of ${KNOWN_ROLES.join(', ')}`);
  }
  const tenantId = options.get('tenant');
  if (tenantId !== undefined && !TENANT_ID.test(tenantId)) {
    throw new UsageError(`--tenant "${tenantId}" is not a tenant id (3-63 of a-z, 0-9, -)`);
  }
  const ttlSeconds = parseTtl(options.get('ttl') ?? '1h');
  const config = loadConfig();
  const issuer = await loadDevIssuer(devIssuerFile(config.dataDir));
  const jwt = await issuer.mint({
    subject: options.get('subject') ?? `dev-${role as Role}`,
    roles: [role],
    audience: options.get('audience') ?? 'ecs-gateway',
    ttlSeconds,
    ...(tenantId === undefined ? {} : { tenantId }),
  });
  console.log(jwt);
  console.error(`ecs: token from ${DEV_ISSUER}, role ${role}, expires in ${ttlSeconds} s`);
  return 0;
}

async function migrate(): Promise<number> {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await db.migrate();
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    return 0;
  } finally {
    await db.close();
  }
}

async function main(args: string[]): Promise<number> {
  switch (args[0]) {
    case 'migrate':
      return migrate();
    case 'verify':
      return verify(args.slice(1));
    case 'verify-proof':
      return verifyProof(args.slice(1));
    case 'token':
      // Every failure of `ecs token` is one line and exit code 2.
      return token(args.slice(1)).catch((error: unknown) => {
        if (error instanceof UsageError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new UsageError(error instanceof ConfigError ? `configuration error: ${message}` : message);
      });
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return args[0] === undefined ? 2 : 0;
    default:
      console.error(`unknown command "${args[0]}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      console.error(`ecs: ${message.replace(/\s*\n\s*/g, ' ')}`);
      process.exit(2);
    }
    console.error(error instanceof ConfigError ? `configuration error: ${message}` : `ecs: ${message}`);
    process.exit(1);
  },
);
