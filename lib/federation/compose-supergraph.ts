import { readFile } from 'node:fs/promises';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { PLANES } from '../config/config';
import type { Plane } from '../config/config';

/** Placeholder routing URL written into the supergraph; the gateway routes by plane name. */
export function placeholderUrl(plane: Plane): string {
  return `https://${plane}.subgraph.ecs.internal/graphql`;
}

export class CompositionFailed extends Error {
  override readonly name = 'CompositionFailed';
  constructor(readonly messages: string[]) {
    super(`supergraph composition failed:\n${messages.map((message) => `  - ${message}`).join('\n')}`);
  }
}

/** Composes the plane schemas with Apollo's composer; throws its own messages on failure. */
export async function composeSupergraph(schemaFiles: Record<Plane, string>): Promise<string> {
  const services = await Promise.all(
    PLANES.map(async (plane) => ({
      name: plane,
      url: placeholderUrl(plane),
      typeDefs: parse(await readFile(schemaFiles[plane], 'utf8')),
    })),
  );
  const result = composeServices(services);
  if (result.errors) throw new CompositionFailed(result.errors.map((error) => error.message));
  return `${result.supergraphSdl.trimEnd()}\n`;
}
