import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { buildClientSchema, getIntrospectionQuery, introspectionFromSchema, printSchema } from 'graphql';
import type { GraphQLSchema, IntrospectionOptions, IntrospectionQuery } from 'graphql';
import { SUPERGRAPH_FILE } from './supergraph-file';

/**
 * The public schema as last released, as clients see it over introspection of `POST /graphql`
 * (`npm run schema:release` writes it). A change to the schema that would break a client
 * fails the tests until this file is rewritten in the same commit.
 */
export const RELEASED_SCHEMA_FILE = path.join(__dirname, '..', 'schema.released.graphql');

/** What the public schema is read with: everything introspection can tell, descriptions included. */
export const PUBLIC_INTROSPECTION: IntrospectionOptions = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
};

/** The introspection query a client sends to read the public schema. */
export const PUBLIC_INTROSPECTION_QUERY = getIntrospectionQuery(PUBLIC_INTROSPECTION);

/**
 * The schema `POST /graphql` serves for a supergraph: @apollo/gateway's own API schema of it,
 * the one Apollo Server answers introspection from, built without a server or a plane.
 */
async function gatewayApiSchema(supergraphSdl: string): Promise<GraphQLSchema> {
  // As in gateway-app.ts: @apollo/gateway otherwise starts exporting metrics to Apollo's servers.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({ supergraphSdl });
  try {
    return (await gateway.load()).schema;
  } finally {
    await gateway.stop();
  }
}

/** An introspection answer printed as SDL, as a client's tools rebuild the schema from it. */
export function printIntrospection(introspection: IntrospectionQuery): string {
  return `${printSchema(buildClientSchema(introspection))}\n`;
}

/** The public schema of a supergraph (by default the committed one), printed as clients see it over introspection. */
export async function publicSchemaSdl(supergraphSdl?: string): Promise<string> {
  const schema = await gatewayApiSchema(supergraphSdl ?? (await readFile(SUPERGRAPH_FILE, 'utf8')));
  return printIntrospection(introspectionFromSchema(schema, PUBLIC_INTROSPECTION));
}
