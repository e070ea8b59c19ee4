#!/usr/bin/env node
// `npm run build`: compiles the service to CommonJS JavaScript with tsc (tsconfig.build.json)
// and copies next to it the files the running service reads through __dirname: GraphQL
// schemas, the supergraph, the released schema, Prisma's schema and migrations, and the
// browser pages' bundle when it was built. `node dist/cli/start.js` then runs without tsx.
// usage: node scripts/build.js [outDir]   (default: dist; emptied first)

const { spawnSync } = require('node:child_process');
const { cpSync, existsSync, readdirSync, rmSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const outDir = path.resolve(root, process.argv[2] ?? 'dist');

const assetFiles = [
  'schema.released.graphql',
  'gateway/supergraph.graphql',
  'gateway/subscriptions/schema.graphql',
  ...readdirSync(path.join(root, 'subgraphs'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(root, 'subgraphs', entry.name, 'schema.graphql')))
    .map((entry) => `subgraphs/${entry.name}/schema.graphql`),
];
const assetFolders = ['prisma/schema', 'prisma/migrations'];
// Built by the install step; absent only in a checkout where it was never built.
const optionalFolders = ['web/dist'];

if (!existsSync(path.join(root, 'prisma', 'generated', 'client.ts'))) {
  console.error('build: prisma/generated is missing; run npm run generate first');
  process.exit(1);
}
rmSync(outDir, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

for (const file of assetFiles) cpSync(path.join(root, file), path.join(outDir, file));
for (const folder of assetFolders) cpSync(path.join(root, folder), path.join(outDir, folder), { recursive: true });
for (const folder of optionalFolders) {
  if (existsSync(path.join(root, folder))) cpSync(path.join(root, folder), path.join(outDir, folder), { recursive: true });
  else console.warn(`build: ${folder} is missing; the browser pages will not be served`);
}
console.log(`built ${path.relative(root, outDir) || '.'}: run node ${path.relative(process.cwd(), path.join(outDir, 'cli', 'start.js'))}`);
