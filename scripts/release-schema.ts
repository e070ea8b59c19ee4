// Writes schema.released.graphql, the public GraphQL schema as clients see it over
// introspection, from the committed supergraph (npm run schema:release). Run it when a
// change to the schema is meant to be released, breaking ones included, and commit the file.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RELEASED_SCHEMA_FILE, publicSchemaSdl } from '../gateway/public-schema';

const HEADER = [
  '# The public GraphQL schema at /graphql, as clients see it over introspection of POST /graphql',
  '# (its Subscription is served over the websocket on the same path).',
  '# Written by `npm run schema:release` from gateway/supergraph.graphql: do not edit by hand.',
  '# A change that would break a client fails test/unit/public-schema.test.ts until this file is rewritten.',
  '',
].join('\n');

publicSchemaSdl()
  .then(async (sdl) => {
    await writeFile(RELEASED_SCHEMA_FILE, `${HEADER}\n${sdl}`);
    console.log(`wrote ${path.relative(process.cwd(), RELEASED_SCHEMA_FILE)}`);
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
