import path from 'node:path';

/** The committed supergraph the gateway loads; `npm run compose` writes it from the plane schemas. */
export const SUPERGRAPH_FILE = path.join(__dirname, 'supergraph.graphql');
