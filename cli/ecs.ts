// The `ecs` command line: `ecs migrate` applies the committed migrations to the
// configured database (DATABASE_URL, or the embedded one under DATA_DIR).
import { ConfigError, loadConfig } from '../lib/config/config';
import { openDatabase } from '../lib/db/database';

const USAGE = `usage: ecs <command>

commands:
  migrate    apply the committed database migrations (DATABASE_URL or DATA_DIR)`;

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
    console.error(error instanceof ConfigError ? `configuration error: ${message}` : `ecs: ${message}`);
    process.exit(1);
  },
);
