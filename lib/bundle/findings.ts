/**
 * The verifier's result vocabulary: one `BundleCheck` per named check, and the collector
 * that checks report problems to (it keeps the first few messages of each check and counts
 * the rest, so a million bad events do not make a million lines).
 *
 * "First" means first in the order of the checks and of the bundle, not first reported: a
 * streaming verifier learns some things late (an artifact that is missing is only known
 * once the whole archive has passed), so every message carries an order key and the kept
 * messages are those with the smallest keys. A bundle gives the same details whichever
 * order its files come in.
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

/** Where a message stands among those of its check, compared element by element. */
export type OrderKey = readonly (number | string)[];

export function compareKeys(a: OrderKey, b: OrderKey): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const [x, y] = [a[index]!, b[index]!];
    if (x === y) continue;
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * The steps of a verification, in the order their messages are listed. Checks may run in
 * another order (the event pass runs while an archive streams by), never their messages.
 */
export const STEP = {
  layout: 1,
  documents: 2,
  manifestFields: 3,
  profiles: 4,
  hashMethods: 5,
  scopeDeclarations: 6,
  events: 8,
  declaredHashes: 9,
  scope: 10,
  segmentRef: 11,
  fileDigests: 12,
  manifestArtifacts: 13,
  unreferencedArtifacts: 14,
  signature: 15,
} as const;

const MESSAGES_KEPT = 5;

interface Problems {
  kept: Array<{ key: OrderKey; message: string }>;
  count: number;
}

export class Findings {
  private readonly problems = new Map<string, Problems>();
  private readonly notes = new Map<string, string[]>();
  private step: number = 0;
  private reported = 0;

  /** Messages reported without a key from now on are listed after those of earlier steps. */
  startStep(step: number): void {
    this.step = step;
  }

  /** A problem; `key` places it among the check's messages (default: after every earlier one of this step). */
  fail(name: string, message: string, key: OrderKey = [this.step, this.reported]): void {
    this.reported += 1;
    const entry = this.problems.get(name) ?? { kept: [], count: 0 };
    entry.count += 1;
    this.problems.set(name, entry);
    const { kept } = entry;
    if (kept.length === MESSAGES_KEPT && compareKeys(key, kept[MESSAGES_KEPT - 1]!.key) >= 0) return;
    let at = kept.length;
    while (at > 0 && compareKeys(key, kept[at - 1]!.key) < 0) at -= 1;
    kept.splice(at, 0, { key, message });
    if (kept.length > MESSAGES_KEPT) kept.pop();
  }

  /** Problems counted but not listed (they come after listed ones of the same kind). */
  failUnlisted(name: string, count: number): void {
    if (count <= 0) return;
    const entry = this.problems.get(name);
    if (!entry) throw new Error(`${name}: unlisted problems without a listed one`);
    entry.count += count;
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
      const more = entry.count > entry.kept.length ? `; and ${entry.count - entry.kept.length} more` : '';
      return { name, ok: false, detail: `${entry.kept.map(({ message }) => message).join('; ')}${more}` };
    }
    const notes = this.notes.get(name);
    return notes ? { name, ok: true, detail: `${passed} (${notes.join('; ')})`, warning: true } : { name, ok: true, detail: passed };
  }
}
