/** A wrong command line: reported as one line, exit code 2. */
export class UsageError extends Error {}
