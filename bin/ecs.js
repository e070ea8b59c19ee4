#!/usr/bin/env node
// The `ecs` command line, run in this one process (its memory is one process's, as a
// benchmark or `ps` sees it): the compiled JavaScript of `npm run build` (dist/cli/ecs.js)
// when it is there and no TypeScript source it is built from is newer, otherwise
// cli/ecs.ts through tsx's require hook (a dependency). A build older than the sources
// is never run: a checkout keeps running what it holds.

const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const built = path.join(root, 'dist', 'cli', 'ecs.js');
/** The folders the command line is compiled from (cli/ecs.ts imports nothing outside them). */
const SOURCES = ['cli', 'lib', path.join('prisma', 'generated')];

/** Whether some `.ts` file under `folder` was changed after `time` (milliseconds). */
function changedSince(folder, time) {
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const entry of entries) {
    const file = path.join(folder, entry.name);
    if (entry.isDirectory() ? changedSince(file, time) : entry.name.endsWith('.ts') && statSync(file).mtimeMs > time) return true;
  }
  return false;
}

function useBuild() {
  if (!existsSync(built)) return false;
  const time = statSync(built).mtimeMs;
  return !SOURCES.some((folder) => changedSince(path.join(root, folder), time));
}

if (useBuild()) {
  require(built);
} else {
  require('tsx/cjs/api').register();
  require(path.join(root, 'cli', 'ecs.ts'));
}
