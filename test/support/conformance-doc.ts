import { readFileSync } from 'node:fs';
import path from 'node:path';

/** docs/conformance.md: the deviations independent validators find, each with its reason. */
export const CONFORMANCE_DOC = path.resolve(__dirname, '..', '..', 'docs', 'conformance.md');

export interface ListedDeviation {
  /** First column: the operation or message it concerns, as written (backticks removed). */
  subject: string;
  /** The first `code span` of the second column: the violation exactly as the validator words it. */
  violation: string;
  /** Last column: why it is so. */
  why: string;
}

/**
 * The rows of the table under the `## <heading>` of docs/conformance.md. The tests compare what
 * the validators report with these rows both ways, so the document can neither miss a
 * deviation nor keep one that is gone.
 */
export function listedDeviations(heading: string): ListedDeviation[] {
  const text = readFileSync(CONFORMANCE_DOC, 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`${CONFORMANCE_DOC} has no section "## ${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2);
  return rows.map((row) => {
    const cells = row
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    const violation = /`([^`]+)`/.exec(cells[1] ?? '')?.[1];
    if (cells.length < 3 || violation === undefined || !cells.at(-1)) {
      throw new Error(`a row of "${heading}" needs a subject, a violation in backticks and a reason: ${row}`);
    }
    return { subject: cells[0]!.replaceAll('`', ''), violation: violation.replaceAll('\\|', '|'), why: cells.at(-1)! };
  });
}
