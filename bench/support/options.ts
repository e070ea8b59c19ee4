// Command-line options of the benchmarks: `--name=value`, after the script's own path.

/** The text of `--name=...`, or undefined when it is not given. */
export function optionText(name: string, argv = process.argv.slice(2)): string | undefined {
  return argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/**
 * The positive integer of `--name=...`, or `fallback` when it is not given.
 * @throws Error when it is given and is not a positive integer (or not a multiple of `multipleOf`)
 */
export function positiveIntegerOption(name: string, fallback: number, multipleOf = 1): number {
  const text = optionText(name);
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value <= 0 || value % multipleOf !== 0) {
    throw new Error(`--${name} must be a positive ${multipleOf === 1 ? 'integer' : `multiple of ${multipleOf}`}`);
  }
  return value;
}
