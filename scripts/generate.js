#!/usr/bin/env node
// Everything `npm install` and `npm run generate` produce, without network access: the Prisma
// client (scripts/generate-prisma.js) and the resolver types of every plane (codegen.ts).

const { spawnSync } = require('node:child_process');
const path = require('node:path');

function run(args) {
  const result = spawnSync(process.execPath, args, { cwd: path.join(__dirname, '..'), stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run([path.join(__dirname, 'generate-prisma.js')]);

let codegen;
try {
  codegen = path.join(path.dirname(require.resolve('@graphql-codegen/cli/package.json')), 'cjs', 'bin.js');
} catch {
  // An install without development dependencies: the resolver types are only read by the type check.
  console.log('Resolver types not generated: @graphql-codegen/cli is not installed');
  process.exit(0);
}
run([codegen, '--config', 'codegen.ts']);
console.log('Generated the resolver types of every plane (subgraphs/<plane>/generated/) from their schema.graphql');
