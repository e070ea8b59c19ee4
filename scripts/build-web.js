#!/usr/bin/env node
// Bundles the browser pages the gateway serves (the GraphQL IDE at GET /graphql, the auditor's
// console at GET /console) into web/dist with esbuild: every script, style, font and worker
// from npm packages, nothing loaded from elsewhere at run time. Run by `npm install`
// (postinstall) and `npm run build:web`.

const path = require('node:path');
const { rmSync } = require('node:fs');

const root = path.join(__dirname, '..');
const outdir = path.join(root, 'web', 'dist');

/** esbuild is not a dependency of its own: it comes with tsx, which is. */
function loadEsbuild() {
  const tsxDir = path.dirname(require.resolve('tsx/package.json', { paths: [root] }));
  return require(require.resolve('esbuild', { paths: [tsxDir] }));
}

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  target: ['chrome120', 'firefox121', 'safari17'],
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'dataurl', '.png': 'dataurl' },
  assetNames: '[name]-[hash]',
  logLevel: 'warning',
  absWorkingDir: root,
};

async function main() {
  const esbuild = loadEsbuild();
  const started = Date.now();
  rmSync(outdir, { recursive: true, force: true });
  await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: { ide: 'web/ide/main.ts' },
      outdir: path.join(outdir, 'ide'),
      format: 'esm',
    }),
    esbuild.build({
      ...common,
      entryPoints: {
        'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
        'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
        'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
      },
      outdir: path.join(outdir, 'ide'),
      format: 'iife',
    }),
    esbuild.build({
      ...common,
      entryPoints: { console: 'web/console/main.ts' },
      outdir: path.join(outdir, 'console'),
      format: 'esm',
    }),
  ]);
  console.log(`Bundled the GraphQL IDE and the auditor's console into web/dist in ${Date.now() - started} ms`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
