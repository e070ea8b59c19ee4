import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Every line of the attack and fault checklist (docs/security.md) is tried by at least one
 * test whose title starts with `checklist N:` (or names it in a list, `checklist 17, checklist 18:`),
 * and docs/security.md has a row for each line naming that test's file.
 */
const ROOT = path.resolve(__dirname, '..');
const LINES = 77;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(full);
    return /\.(test|e2e|fault)\.ts$/.test(entry.name) && full !== __filename ? [full] : [];
  });
}

/** Line number → files with a test titled for it. */
function coverage(): Map<number, Set<string>> {
  const covered = new Map<number, Set<string>>();
  for (const file of testFiles(ROOT)) {
    const text = readFileSync(file, 'utf8');
    for (const title of text.matchAll(/\b(?:it|test|describe)(?:\.each\([^)]*\))?\(\s*[`'"]((?:checklist \d+(?:, )?)+):/g)) {
      for (const number of title[1]!.matchAll(/checklist (\d+)/g)) {
        const line = Number(number[1]);
        if (!covered.has(line)) covered.set(line, new Set());
        covered.get(line)!.add(path.relative(path.join(ROOT, '..'), file));
      }
    }
  }
  return covered;
}

describe('security checklist coverage', () => {
  const covered = coverage();
  const doc = readFileSync(path.join(ROOT, '..', 'docs', 'security.md'), 'utf8');

  it('every line 1..77 has a test named after it', () => {
    const missing = Array.from({ length: LINES }, (_, i) => i + 1).filter((line) => !covered.has(line));
    expect(missing).toEqual([]);
  });

  it('docs/security.md has a row per line naming a file that really tests it', () => {
    for (let line = 1; line <= LINES; line += 1) {
      const row = doc.split('\n').find((text) => text.startsWith(`| ${line} |`));
      expect([line, row !== undefined]).toEqual([line, true]);
      const files = [...(covered.get(line) ?? [])];
      expect([line, files.some((file) => row!.includes(file))]).toEqual([line, true]);
    }
  });
});
