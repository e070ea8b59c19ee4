#!/usr/bin/env node
// Generates the Prisma client without network access. `prisma generate` only checks
// that a schema engine file exists (it never runs it), so point it at this script when
// no engine is configured; otherwise the CLI would try to download one.

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= __filename;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
env.CHECKPOINT_DISABLE = '1';
const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, 'generate'], {
  cwd: path.join(__dirname, '..'),
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
