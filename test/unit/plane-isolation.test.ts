import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { PLANES } from '../../lib/config/config';

const ROOT = path.resolve(__dirname, '..', '..');

/** Prisma model names declared in one `.prisma` file, as client accessors (`tenant`, `apiKey`, ...). */
async function modelAccessors(file: string): Promise<string[]> {
  const text = await readFile(path.join(ROOT, 'prisma', 'schema', file), 'utf8');
  return [...text.matchAll(/^model (\w+)/gm)].map((match) => match[1]!.charAt(0).toLowerCase() + match[1]!.slice(1));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : Promise.resolve([path.join(dir, entry.name)]))),
  );
  return nested.flat().filter((file) => file.endsWith('.ts'));
}

const TABLE_PREFIX: Record<string, string> = {
  identity: 'identity_',
  control: 'control_',
  execution: 'execution_',
  data: 'data_',
  audit: 'audit_',
};

describe('plane isolation', () => {
  it.each(PLANES)('the %s plane touches only its own models and tables (the ledger excepted for audit)', async (plane) => {
    const own = new Set(await modelAccessors(`${plane}.prisma`));
    const others = new Map<string, string>();
    for (const other of PLANES.filter((name) => name !== plane)) {
      for (const accessor of await modelAccessors(`${other}.prisma`)) others.set(accessor, other);
    }
    const violations: string[] = [];
    for (const file of await sourceFiles(path.join(ROOT, 'subgraphs', plane))) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/\b(?:prisma|tx)\.(\w+)\./g)) {
        const accessor = match[1]!;
        if (!own.has(accessor) && others.has(accessor))
          violations.push(`${path.relative(ROOT, file)}: ${accessor} (${others.get(accessor)})`);
      }
      for (const [other, prefix] of Object.entries(TABLE_PREFIX)) {
        if (other !== plane && text.includes(`FROM ${prefix}`)) violations.push(`${path.relative(ROOT, file)}: raw SQL on ${prefix}*`);
      }
    }
    expect(violations).toEqual([]);
    expect(own.size).toBeGreaterThan(0);
  });
});
