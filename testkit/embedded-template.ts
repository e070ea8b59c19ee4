import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../lib/db/database';
import { readLocalMigrations } from '../lib/db/migrate';

// A fresh embedded database costs about 4 s (PGlite's initdb, then a reopen); a copy of a
// migrated, cleanly closed one costs a few hundred milliseconds. The template is made once
// per machine for the committed migrations and the installed PGlite, in the temporary
// directory, and shared by every suite (and every concurrent run) that starts a stack.

let ready: Promise<string> | undefined;

const TEMPLATE_PREFIX = 'ecs-pglite-template-';
/** A template of other migrations or another PGlite that no run has used for this long is removed. */
const STALE_TEMPLATE_MS = 24 * 3600 * 1000;

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
  const template = path.join(os.tmpdir(), `${TEMPLATE_PREFIX}${key}`);
  if (existsSync(path.join(template, 'PG_VERSION'))) {
    // Marks it used, so that no other run takes it for stale while this one copies from it.
    const now = new Date();
    await utimes(template, now, now).catch(() => undefined);
    return template;
  }
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
  // A new template means new migrations: older ones nobody used for a day go.
  await removeStaleTemplates(os.tmpdir(), path.basename(template), STALE_TEMPLATE_MS);
  return template;
}

/**
 * Removes the templates under `dir` other than `keep` whose last use (their modification time,
 * renewed on every use) is more than `maxAgeMs` ago; answers the names removed.
 */
export async function removeStaleTemplates(dir: string, keep: string, maxAgeMs: number, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith(TEMPLATE_PREFIX) || name === keep) continue;
    const found = await stat(path.join(dir, name)).catch(() => undefined);
    if (!found?.isDirectory() || now - found.mtimeMs <= maxAgeMs) continue;
    await rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
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
