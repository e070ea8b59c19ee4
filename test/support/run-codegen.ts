// A program: reads a graphql-codegen configuration as JSON on stdin, runs codegen's `generate`
// on it without writing files, and prints the generated files as JSON on stdout. Tests run it
// in a child process (test/support/codegen.ts) because @graphql-codegen/cli loads ESM-only
// packages (listr2, yargs) that Node's own `require` loads but jest's module runtime cannot.
import { text } from 'node:stream/consumers';
import { generate } from '@graphql-codegen/cli';
import type { CodegenConfig } from '@graphql-codegen/cli';

text(process.stdin)
  .then(async (input) => {
    // `generate` is typed as returning any; without saving, it returns the files.
    const files: Array<{ filename: string; content: string }> = await generate(JSON.parse(input) as CodegenConfig, false);
    process.stdout.write(JSON.stringify(files.map(({ filename, content }) => ({ filename, content }))));
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
