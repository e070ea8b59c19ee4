/**
 * The verifier's result vocabulary: one `BundleCheck` per named check, and the collector
 * that checks report problems to (it keeps the first few messages of each check and counts
 * the rest, so a million bad events do not make a million lines).
 */

export interface BundleCheck {
  /** Stable check name, e.g. `event-hashes` (listed in docs/verify.md). */
  name: string;
  ok: boolean;
  /** What was checked, or the problems found. */
  detail: string;
  /** Passed, but with a limitation the reader should know (unsigned, self-asserted key, ...). */
  warning?: boolean;
}

const MESSAGES_KEPT = 5;

export class Findings {
  private readonly problems = new Map<string, { messages: string[]; count: number }>();
  private readonly notes = new Map<string, string[]>();

  fail(name: string, message: string): void {
    const entry = this.problems.get(name) ?? { messages: [], count: 0 };
    if (entry.messages.length < MESSAGES_KEPT) entry.messages.push(message);
    entry.count += 1;
    this.problems.set(name, entry);
  }

  /** A limitation that does not fail the check; turns a pass into a pass with a warning. */
  note(name: string, message: string): void {
    const notes = this.notes.get(name) ?? [];
    if (!notes.includes(message) && notes.length < MESSAGES_KEPT) notes.push(message);
    this.notes.set(name, notes);
  }

  failed(name: string): boolean {
    return this.problems.has(name);
  }

  /** The check's result: its problems when any were reported, else `passed`. */
  check(name: string, passed: string): BundleCheck {
    const entry = this.problems.get(name);
    if (entry) {
      const more = entry.count > entry.messages.length ? `; and ${entry.count - entry.messages.length} more` : '';
      return { name, ok: false, detail: `${entry.messages.join('; ')}${more}` };
    }
    const notes = this.notes.get(name);
    return notes ? { name, ok: true, detail: `${passed} (${notes.join('; ')})`, warning: true } : { name, ok: true, detail: passed };
  }
}
