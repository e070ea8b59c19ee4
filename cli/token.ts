// `ecs token`: an access token from the development issuer whose key lives under DATA_DIR,
// optionally tried on a running gateway, naming the key's DATA_DIR when the gateway refuses it.
import { DEV_ISSUER, devIssuerFile, loadDevIssuer } from '../lib/auth/dev-issuer';
import { KNOWN_ROLES } from '../lib/auth/token-verifier';
import { loadConfig } from '../lib/config/config';
import { type CommandSpec, commandHelp, parseCommand } from './args';
import { UsageError } from './usage-error';

export const TOKEN_SPEC: CommandSpec = {
  name: 'token',
  summary: 'print an access token from the development issuer (key in DATA_DIR/keys/dev-issuer.json)',
  positionals: [],
  options: {
    role: { type: 'string', valueName: 'role', description: `required: ${KNOWN_ROLES.join(', ')}` },
    tenant: { type: 'string', valueName: 'id', description: 'the tenant the token acts for' },
    ttl: { type: 'string', valueName: 'duration', description: 'lifetime: 90s, 15m, 1h or 2d, at most 30d (default 1h)' },
    subject: { type: 'string', valueName: 'sub', description: 'the subject (default dev-<role>)' },
    audience: { type: 'string', valueName: 'aud', description: 'the audience (default ecs-gateway)' },
    check: {
      type: 'string',
      valueName: 'gateway-url',
      description: 'try the token on this gateway; exit 1 naming the DATA_DIR of the key if it refuses it',
    },
  },
  notes: [
    'The token is printed on stdout, one line; the key file it was signed with on stderr.',
    'A gateway trusts the development key under its own DATA_DIR: run ecs token with the same DATA_DIR.',
    'exit codes: 0 token printed (and accepted, with --check), 1 refused by the gateway, 2 wrong command line or no token',
  ],
};

const MAX_TTL_SECONDS = 30 * 24 * 3600;
const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;
const CHECK_TIMEOUT_MS = 10_000;

function parseTtl(value: string): number {
  const match = /^([1-9]\d{0,7})([smhd])$/.exec(value);
  if (!match) throw new UsageError(`--ttl "${value}" is not a duration like 90s, 15m, 1h or 2d`);
  const seconds = Number(match[1]) * TTL_UNITS[match[2]!]!;
  if (seconds > MAX_TTL_SECONDS) throw new UsageError(`--ttl "${value}" is longer than 30 days`);
  return seconds;
}

function checkUrl(value: string): URL {
  try {
    const url = new URL('/graphql', value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // Reported below as a usage error.
  }
  throw new UsageError(`--check "${value}" is not an http(s) URL of a gateway`);
}

/** The gateway's reason for a 401, or `undefined` when it accepted the token. */
async function refusal(url: URL, jwt: string): Promise<string | undefined> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
    signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
  });
  if (response.status !== 401) return undefined;
  const body = (await response.json().catch(() => ({}))) as { errors?: Array<{ message?: string }>; message?: string };
  return body.errors?.[0]?.message ?? body.message ?? 'HTTP 401';
}

export async function token(args: readonly string[]): Promise<number> {
  const parsed = parseCommand(TOKEN_SPEC, args);
  if (!parsed) {
    console.log(commandHelp(TOKEN_SPEC));
    return 0;
  }
  const options = parsed.strings;
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
  const gateway = options.has('check') ? checkUrl(options.get('check')!) : undefined;
  const config = loadConfig();
  const keyFile = devIssuerFile(config.dataDir);
  const issuer = await loadDevIssuer(keyFile);
  const jwt = await issuer.mint({
    subject: options.get('subject') ?? `dev-${role}`,
    roles: [role],
    audience: options.get('audience') ?? 'ecs-gateway',
    ttlSeconds,
    ...(tenantId === undefined ? {} : { tenantId }),
  });
  console.log(jwt);
  console.error(`ecs: token from ${DEV_ISSUER}, role ${role}, expires in ${ttlSeconds} s, key ${keyFile} (DATA_DIR ${config.dataDir})`);
  if (!gateway) return 0;
  const reason = await refusal(gateway, jwt).catch((error: unknown) => {
    throw new Error(`could not reach the gateway at ${gateway.origin}: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (reason === undefined) {
    console.error(`ecs: the gateway at ${gateway.origin} accepts the token`);
    return 0;
  }
  console.error(
    `ecs: the gateway at ${gateway.origin} refused the token (${reason}). It was signed with the development key read from ` +
      `DATA_DIR ${config.dataDir} (${keyFile}); the gateway trusts the key under its own DATA_DIR: run ecs token with ` +
      'DATA_DIR set as the gateway has it, or start the gateway with this one.',
  );
  return 1;
}
