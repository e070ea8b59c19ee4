import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PersistedQueryOptions } from '@apollo/server';
import { GraphQLError, Kind, parse } from 'graphql';
import type { OperationDefinitionNode } from 'graphql';
import { z } from 'zod';

/** One operation a deployment lists: what clients send by id, or as this exact text. */
export interface PersistedOperation {
  id: string;
  body: string;
  name?: string;
  type?: 'query' | 'mutation' | 'subscription';
}

const idSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:~+/=-]+$/, 'an operation id is 1-200 letters, digits or . _ : ~ + / = -');
const bodySchema = z.string().min(1).max(100_000);

/** Apollo's manifest (`@apollo/generate-persisted-query-manifest`, GraphOS, Apollo Router). */
const apolloManifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: idSchema,
      body: bodySchema,
      name: z.string().max(200).optional(),
      type: z.enum(['query', 'mutation', 'subscription']).optional(),
    }),
  ),
});
/** An id-to-document map (graphql-codegen's `persisted-documents.json`, Relay's `persisted_queries.json`). */
const documentMapSchema = z.record(idSchema, bodySchema);

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The persisted-operation manifest of the deployment (`GRAPHQL_PERSISTED_MANIFEST`):
 * operations by id, and the digests of their exact texts (a listed operation may also be
 * sent as its full text, as an automatic persisted query registers it).
 */
export class PersistedManifest {
  private readonly byId = new Map<string, PersistedOperation>();
  private readonly bodyDigests = new Set<string>();

  constructor(operations: readonly PersistedOperation[]) {
    for (const operation of operations) {
      const known = this.byId.get(operation.id);
      if (known && known.body !== operation.body)
        throw new ManifestError(`operation id ${operation.id} is listed twice with different documents`);
      checkDocument(operation);
      this.byId.set(operation.id, operation);
      this.bodyDigests.add(sha256(operation.body));
    }
  }

  /** Reads a manifest in Apollo's format or as an id-to-document JSON object; throws a ManifestError naming the problem. */
  static fromFile(file: string): PersistedManifest {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ManifestError(`${file}: ${(error as { message?: string }).message ?? String(error)}`);
    }
    return PersistedManifest.fromJson(json, file);
  }

  static fromJson(json: unknown, source = 'manifest'): PersistedManifest {
    const isApollo = typeof json === 'object' && json !== null && 'format' in json;
    const parsed = isApollo ? apolloManifestSchema.safeParse(json) : documentMapSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      // A bad id of a map is reported by zod as a bad key, with the id's own problem inside.
      const inner = 'issues' in issue ? (issue.issues as ReadonlyArray<{ message: string }>)[0]?.message : undefined;
      throw new ManifestError(`${source}: ${issue.path.join('.') || 'the document'}: ${inner ?? issue.message}`);
    }
    const operations = Array.isArray((parsed.data as { operations?: unknown }).operations)
      ? (parsed.data as z.infer<typeof apolloManifestSchema>).operations
      : Object.entries(parsed.data as Record<string, string>).map(([id, body]) => ({ id, body }));
    try {
      return new PersistedManifest(operations);
    } catch (error) {
      throw new ManifestError(`${source}: ${(error as { message?: string }).message ?? String(error)}`);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  /** The document listed under `id`. */
  body(id: string): string | undefined {
    return this.byId.get(id)?.body;
  }

  /** Whether `text` is, byte for byte, the document of a listed operation. */
  lists(text: string): boolean {
    return this.bodyDigests.has(sha256(text));
  }
}

/** A listed document must parse and hold operations of the type it declares. */
function checkDocument(operation: PersistedOperation): void {
  let operations: OperationDefinitionNode[];
  try {
    operations = parse(operation.body).definitions.filter((node) => node.kind === Kind.OPERATION_DEFINITION);
  } catch (error) {
    throw new ManifestError(`operation ${operation.id}: ${error instanceof GraphQLError ? error.message : 'the document does not parse'}`);
  }
  if (operations.length === 0) throw new ManifestError(`operation ${operation.id}: the document holds no operation`);
  if (operation.type && operations.some((node) => node.operation !== operation.type)) {
    throw new ManifestError(`operation ${operation.id}: declared ${operation.type}, but the document holds another operation type`);
  }
}

type PersistedQueryCache = NonNullable<PersistedQueryOptions['cache']>;

/** Apollo Server stores automatic persisted queries under this prefix (its `APQ_CACHE_PREFIX`). */
const APQ_PREFIX = 'apq:';

/**
 * Where gateway processes share the documents clients registered (Redis, when `REDIS_URL` is
 * set): a query registered through one replica is then found by the others.
 */
export interface SharedDocuments {
  /** The document registered under `id`, or undefined (also when the store cannot be reached). */
  get(id: string): Promise<string | undefined>;
  /** Keeps `body` under `id` for the others; never throws. */
  set(id: string, body: string): Promise<void>;
}

/** The store of Apollo's automatic persisted queries, which may be told where replicas share registrations. */
export type PersistedQueryStore = PersistedQueryCache & {
  /** From now on, registrations are also kept in `shared`, and a miss here asks it. */
  shareThrough(shared: SharedDocuments): void;
};

/**
 * The store of Apollo Server's automatic persisted queries: the manifest's operations first
 * (clients may send any listed id without registering it), then documents clients registered,
 * in a least-recently-used map bounded by their total length (`maxChars`), then, once
 * `shareThrough` was called, the documents other replicas registered. A document from the
 * shared store is used only when its SHA-256 is the id it was asked by: whoever can write to
 * Redis cannot make an id run another operation. With `registration` off (the safelist),
 * nothing is ever added, here or to the shared store.
 */
export function persistedQueryCache(options: {
  manifest: PersistedManifest | undefined;
  registration: boolean;
  /** @default 16 Mi characters */
  maxChars?: number;
}): PersistedQueryStore {
  const maxChars = options.maxChars ?? 16 * 1024 * 1024;
  const registered = new Map<string, string>();
  let shared: SharedDocuments | undefined;
  let chars = 0;
  const idOf = (key: string) => (key.startsWith(APQ_PREFIX) ? key.slice(APQ_PREFIX.length) : key);
  const keep = (id: string, value: string): boolean => {
    if (value.length > maxChars || registered.has(id)) return false;
    registered.set(id, value);
    chars += value.length;
    for (const [oldest, body] of registered) {
      if (chars <= maxChars) break;
      registered.delete(oldest);
      chars -= body.length;
    }
    return true;
  };
  return {
    shareThrough(store) {
      shared = options.registration ? store : undefined;
    },
    async get(key) {
      const id = idOf(key);
      const listed = options.manifest?.body(id);
      if (listed !== undefined) return listed;
      const body = registered.get(id);
      if (body !== undefined) {
        // Most recently used goes last; eviction takes the first.
        registered.delete(id);
        registered.set(id, body);
        return body;
      }
      const elsewhere = await shared?.get(id);
      if (elsewhere === undefined || sha256(elsewhere) !== id) return undefined;
      keep(id, elsewhere);
      return elsewhere;
    },
    async set(key, value) {
      const id = idOf(key);
      if (!options.registration || !keep(id, value)) return;
      await shared?.set(id, value);
    },
    async delete(key) {
      const id = idOf(key);
      const body = registered.get(id);
      if (body === undefined) return false;
      registered.delete(id);
      chars -= body.length;
      return true;
    },
  };
}
