// The `ecs` command line: `ecs migrate` applies the committed migrations to the
// configured database (DATABASE_URL, or the embedded one under DATA_DIR); `ecs token`
// prints an access token from the development issuer (key under DATA_DIR/keys);
// `ecs verify` and `ecs verify-proof` check evidence bundles and Merkle proofs offline;
// `ecs tenant export` and `ecs tenant import` drive a running gateway's tenant migration routes.
// Every command answers `--help`; a wrong command line is one line on stderr and exit 2.
import { ConfigError, loadConfig } from '../lib/config/config';
import { openDatabase } from '../lib/db/database';
import { type CommandSpec, commandHelp, overviewHelp, parseCommand } from './args';
import { TENANT_SPEC, tenant } from './tenant-migration';
import { TOKEN_SPEC, token } from './token';
import { UsageError } from './usage-error';
import { VERIFY_PROOF_SPEC, VERIFY_SPEC, verify, verifyProof } from './verify';

const MIGRATE_SPEC: CommandSpec = {
  name: 'migrate',
  summary: 'apply the committed database migrations (DATABASE_URL, or the embedded database under DATA_DIR)',
  positionals: [],
  options: {},
};

async function migrate(args: readonly string[]): Promise<number> {
  if (!parseCommand(MIGRATE_SPEC, args)) {
    console.log(commandHelp(MIGRATE_SPEC));
    return 0;
  }
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

/** Every failure of `ecs token` is one line and exit code 2. */
function tokenCommand(args: readonly string[]): Promise<number> {
  return token(args).catch((error: unknown) => {
    if (error instanceof UsageError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(error instanceof ConfigError ? `configuration error: ${message}` : message);
  });
}

const COMMANDS: ReadonlyArray<{ spec: CommandSpec; run: (args: readonly string[]) => Promise<number> }> = [
  { spec: MIGRATE_SPEC, run: migrate },
  { spec: TOKEN_SPEC, run: tokenCommand },
  { spec: VERIFY_SPEC, run: verify },
  { spec: VERIFY_PROOF_SPEC, run: verifyProof },
  { spec: TENANT_SPEC, run: tenant },
];
const OVERVIEW = overviewHelp(COMMANDS.map((command) => command.spec));

async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    console.error(OVERVIEW);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((command) => command.spec.name === rest[0]) : undefined;
    if (name === 'help' && rest[0] !== undefined && !topic) throw new UsageError(`unknown command "${rest[0]}" (see ecs --help)`);
    console.log(topic ? commandHelp(topic.spec) : OVERVIEW);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.spec.name === name);
  if (!command) throw new UsageError(`unknown command "${name}" (see ecs --help)`);
  return command.run(rest);
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
