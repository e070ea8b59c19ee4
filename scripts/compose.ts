// Writes gateway/supergraph.graphql from the plane schemas (npm run compose).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SUPERGRAPH_FILE } from '../gateway/supergraph-file';
import { composeSupergraph } from '../lib/federation/compose-supergraph';
import { SUBGRAPH_SCHEMA_FILES } from '../subgraphs/schema-files';

composeSupergraph(SUBGRAPH_SCHEMA_FILES)
  .then(async (sdl) => {
    await writeFile(SUPERGRAPH_FILE, sdl);
    console.log(`wrote ${path.relative(process.cwd(), SUPERGRAPH_FILE)}`);
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
