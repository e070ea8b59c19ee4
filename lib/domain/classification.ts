/** Classification levels of the tenant model, lowest first. */
export const CLASSIFICATIONS = ['public', 'internal', 'restricted', 'secret'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export function isClassification(value: string): value is Classification {
  return (CLASSIFICATIONS as readonly string[]).includes(value);
}

/** True when `level` does not exceed `ceiling`. */
export function classificationAtMost(level: Classification, ceiling: Classification): boolean {
  return CLASSIFICATIONS.indexOf(level) <= CLASSIFICATIONS.indexOf(ceiling);
}
