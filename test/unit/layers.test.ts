import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

/**
 * One direction of dependencies (docs/architecture.md): each part imports only the parts
 * below it. `prisma/` (the generated client) is under everything.
 */
const LAYERS: Record<string, number> = {
  prisma: -1,
  lib: 0,
  subgraphs: 1,
  gateway: 2,
  'rest-adapter': 3,
  app: 4,
  testkit: 4.5,
  cli: 5,
  bench: 5,
  scripts: 5,
};

/** The code whose imports are checked: the product, the benchmarks and what they share with the tests. */
const PRODUCT = ['lib', 'subgraphs', 'gateway', 'rest-adapter', 'app', 'cli', 'bench', 'scripts', 'testkit'];

/** Helpers shared by the tests and the benchmarks: the benchmarks' way to them, never through test/. */
const SHARED_WITH_TESTS = 'testkit';

/** What a file of `subgraphs/` belongs to: a plane's folder, or the composition of them all. */
const PLANE_FILES = /^subgraphs\/([^/]+)\//;

const ROOT = path.resolve(__dirname, '..', '..');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return sourceFiles(relative);
      return Promise.resolve(/\.(ts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [relative] : []);
    }),
  );
  return nested.flat();
}

/** Every module a file names: static, type-only and dynamic imports, re-exports and require(). */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
}

/** Why `from` may not import `to` (both repository-relative paths), or undefined when it may. */
function violation(from: string, to: string): string | undefined {
  const [fromPart = ''] = from.split('/');
  const [toPart = ''] = to.split('/');
  if (fromPart === toPart) {
    if (fromPart !== 'subgraphs') return undefined;
    const fromPlane = PLANE_FILES.exec(from)?.[1];
    const toPlane = PLANE_FILES.exec(to)?.[1];
    if (!fromPlane || fromPlane === toPlane) return undefined;
    if (toPlane) return `the ${fromPlane} plane imports the ${toPlane} plane`;
    return to === 'subgraphs/registry.ts' ? `the ${fromPlane} plane imports the registry of all planes` : undefined;
  }
  const toLayer = LAYERS[toPart];
  if (toLayer === undefined) return `${toPart}/ is not a part product code may import`;
  if (toPart === SHARED_WITH_TESTS && fromPart !== 'bench') return `${fromPart}/ may not import ${toPart}/ (test and benchmark helpers)`;
  if (toLayer >= LAYERS[fromPart]!) return `${fromPart}/ may not import ${toPart}/ (only the parts below it)`;
  if (fromPart === 'rest-adapter' && toPart === 'subgraphs') return 'the REST adapter reaches the planes only through the gateway';
  return undefined;
}

/** The repository-relative file a relative specifier names (extension and index resolved where they exist). */
async function resolveImport(from: string, specifier: string, files: ReadonlySet<string>): Promise<string> {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`]) if (files.has(candidate)) return candidate;
  return base;
}

async function productImports(): Promise<Array<{ file: string; specifier: string; target: string }>> {
  const files = (await Promise.all(PRODUCT.map(sourceFiles))).flat();
  const known = new Set(files);
  const found: Array<{ file: string; specifier: string; target: string }> = [];
  for (const file of files) {
    for (const specifier of importsOf(await readFile(path.join(ROOT, file), 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      found.push({ file, specifier, target: await resolveImport(file, specifier, known) });
    }
  }
  return found;
}

describe('layers', () => {
  it('the rule itself: lower parts never import higher ones, planes stay apart, REST reaches planes through the gateway', () => {
    expect(violation('lib/a.ts', 'gateway/b.ts')).toBeDefined();
    expect(violation('gateway/a.ts', 'rest-adapter/b.ts')).toBeDefined();
    expect(violation('subgraphs/data/a.ts', 'subgraphs/audit/b.ts')).toBeDefined();
    expect(violation('subgraphs/data/a.ts', 'subgraphs/registry.ts')).toBeDefined();
    expect(violation('rest-adapter/a.ts', 'subgraphs/audit/b.ts')).toBeDefined();
    expect(violation('cli/a.ts', 'bench/b.ts')).toBeDefined();
    expect(violation('bench/a.ts', 'test/support/b.ts')).toBeDefined();
    expect(violation('testkit/a.ts', 'test/support/b.ts')).toBeDefined();
    expect(violation('cli/a.ts', 'testkit/b.ts')).toBeDefined();
    expect(violation('bench/a.ts', 'testkit/b.ts')).toBeUndefined();
    expect(violation('app/a.ts', 'subgraphs/registry.ts')).toBeUndefined();
    expect(violation('subgraphs/registry.ts', 'subgraphs/audit/server.ts')).toBeUndefined();
    expect(violation('subgraphs/audit/server.ts', 'subgraphs/schema-files.ts')).toBeUndefined();
    expect(violation('rest-adapter/a.ts', 'gateway/b.ts')).toBeUndefined();
  });

  it('every import of every product file follows cli/bench/scripts → app → rest-adapter → gateway → subgraphs → lib; bench reaches test helpers only in testkit/', async () => {
    const imports = await productImports();
    // The scan must see the code it guards: every part has files that import something.
    for (const part of PRODUCT) expect(imports.some(({ file }) => file.startsWith(`${part}/`))).toBe(true);
    const wrong = imports.flatMap(({ file, specifier, target }) => {
      const why = violation(file, target);
      return why ? [`${file}: import '${specifier}' (${why})`] : [];
    });
    expect(wrong).toEqual([]);
  });
});
