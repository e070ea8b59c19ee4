import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaContainer, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';

// Development tooling only (npm run migrate:create): the running service applies
// migrations with lib/db/migrate.ts and never loads the schema engine.

/** Where the Prisma schema files and migrations of the project live. */
export const PRISMA_DIR = path.resolve(__dirname, '..', '..', 'prisma');
export const SCHEMA_DIR = path.join(PRISMA_DIR, 'schema');
export const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');

export const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** Reads every `.prisma` file of the schema folder, in a stable order. */
export async function readSchemaFiles(dir = SCHEMA_DIR): Promise<SchemaContainer[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.prisma')).sort();
  return Promise.all(
    names.map(async (name) => ({
      path: path.join(dir, name),
      content: await readFile(path.join(dir, name), 'utf8'),
    })),
  );
}

/** Reads the migrations folder in Prisma's format (`<timestamp>_<name>/migration.sql`). */
export async function readMigrations(baseDir = MIGRATIONS_DIR): Promise<MigrationList> {
  const entries = await readdir(baseDir).catch(() => [] as string[]);
  const dirs: string[] = [];
  for (const entry of entries.sort()) {
    if ((await stat(path.join(baseDir, entry))).isDirectory()) dirs.push(entry);
  }
  const lockPath = path.join(baseDir, 'migration_lock.toml');
  return {
    baseDir,
    lockfile: { path: 'migration_lock.toml', content: await readFile(lockPath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      dirs.map(async (dir) => {
        const file = path.join(baseDir, dir, 'migration.sql');
        const content = await readFile(file, 'utf8').then(
          (text) => ({ tag: 'ok' as const, value: text }),
          (error: Error) => ({ tag: 'error' as const, value: error.message }),
        );
        return { path: dir, migrationFile: { path: 'migration.sql', content } };
      }),
    ),
  };
}

interface WasmBindings {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
  SchemaEngine: { new: typeof SchemaEngine.new };
}

/**
 * Instantiates Prisma's schema engine compiled to WebAssembly. The package targets
 * bundlers, so the module is wired by hand; the native engine is not needed. Not cached:
 * the engine runs once at start-up and its memory should be collectable afterwards.
 */
async function loadBindings(): Promise<WasmBindings> {
  const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const dir = path.dirname(bgPath);
  const bg = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as unknown as WasmBindings;
  const module = await WebAssembly.compile(await readFile(path.join(dir, 'schema_engine_bg.wasm')));
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': bg as never });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
  return bg;
}

/** Opens a schema engine over a Prisma driver adapter (PGlite or PostgreSQL). */
export async function openSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  log: (message: string) => void = () => undefined,
): Promise<SchemaEngine> {
  const bg = await loadBindings();
  const files = await readSchemaFiles();
  return bg.SchemaEngine.new(
    { datamodels: files.map((file) => [file.path, file.content]) },
    log,
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
}
