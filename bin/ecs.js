#!/usr/bin/env node
// Runs the TypeScript command line through tsx (installed as a dependency).

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const result = spawnSync(
  process.execPath,
  [require.resolve('tsx/cli'), path.join(__dirname, '..', 'cli', 'ecs.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
