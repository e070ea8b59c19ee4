import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../lib/db/database';
import { readLocalMigrations } from '../lib/db/migrate';

// A fresh embedded database costs about 4 s (PGlite's initdb, then a reopen); a copy of a
// migrated, cleanly closed one costs a few hundred milliseconds. The template is made once
// per machine for the committed migrations and the installed PGlite, in the temporary
// directory, and shared by every suite (and every concurrent run) that starts a stack.

let ready: Promise<string> | undefined;

/** Puts a migrated embedded database into `<dataDir>/pglite`, as a first start would leave it. */
export async function seedEmbeddedDatabase(dataDir: string): Promise<void> {
  const target = path.join(dataDir, 'pglite');
  if (existsSync(path.join(target, 'PG_VERSION'))) return;
  ready ??= embeddedTemplate();
  const template = await ready;
  await mkdir(dataDir, { recursive: true });
  await cp(template, target, { recursive: true });
}

async function embeddedTemplate(): Promise<string> {
  const key = await templateKey();
  const template = path.join(os.tmpdir(), `ecs-pglite-template-${key}`);
  if (existsSync(path.join(template, 'PG_VERSION'))) return template;
  // Built aside and renamed into place, so a reader never sees a half-made template.
  const scratch = path.join(os.tmpdir(), `ecs-pglite-scratch-${randomBytes(6).toString('hex')}`);
  try {
    const db = await openDatabase({ dataDir: scratch });
    try {
      await db.migrate();
    } finally {
      await db.close();
    }
    await rename(path.join(scratch, 'pglite'), template).catch((error: NodeJS.ErrnoException) => {
      // Another run made it first: theirs is as good as ours.
      if (!['EEXIST', 'ENOTEMPTY'].includes(error.code ?? '')) throw error;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return template;
}

async function templateKey(): Promise<string> {
  const hash = createHash('sha256');
  // The package does not export its package.json; it sits in the installed tree.
  const manifest = path.resolve(__dirname, '..', 'node_modules', '@electric-sql', 'pglite', 'package.json');
  const pglite = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  hash.update(`pglite ${pglite.version}\n`);
  for (const migration of await readLocalMigrations()) hash.update(`${migration.name} ${migration.checksum}\n`);
  return hash.digest('hex').slice(0, 16);
}
