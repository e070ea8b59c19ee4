import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { GraphQLError } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import type { Caller } from '../lib/auth/caller';
import { actorOf } from '../lib/auth/caller';
import type { Database } from '../lib/db/database';
import { EcsError, ErrorCode } from '../lib/errors';
import { chainTenant, principalOf } from '../lib/evidence/input-refusal';
import type { RefusalThrottle } from '../lib/evidence/refusal-throttle';
import type { AuthenticatedLocals } from './authenticate';
import { persistedQueryCache } from './persisted-manifest';
import type { PersistedManifest } from './persisted-manifest';

export interface PersistedOperationsOptions {
  /** The deployment's manifest (`GRAPHQL_PERSISTED_MANIFEST`), if any. */
  manifest: PersistedManifest | undefined;
  /** Run only the manifest's operations (`GRAPHQL_PERSISTED_ONLY`); requires `manifest`. */
  only: boolean;
  db: Database;
  throttle: RefusalThrottle;
}

export const NOT_LISTED_MESSAGE =
  "this deployment runs only the operations of its persisted-operation manifest: send a listed operation's id (documentId, or extensions.persistedQuery.sha256Hash) or its exact text";

/**
 * Persisted operations at the gateway's front door, for `/graphql` over HTTP and the
 * websocket. A `documentId` (the GraphQL-over-HTTP persisted-documents convention) is looked
 * up in the manifest and replaced by its document; `extensions.persistedQuery` is left to
 * Apollo Server's automatic persisted queries, whose store holds the manifest
 * (persisted-manifest.ts). With the safelist on, any other document text is refused (403,
 * `request.refusal` evidence, bounded per principal), so only listed operations ever run.
 * The REST adapter's own operations do not pass through here.
 */
export function persistedOperations(options: PersistedOperationsOptions) {
  const { manifest, only } = options;
  if (only && !manifest) throw new Error('the persisted-operation safelist needs a manifest');

  /** What to run instead of `request`, or why not: shared by HTTP and the websocket. */
  function resolve(request: { query?: unknown; documentId?: unknown }): {
    query?: string;
    refusal?: 'not_found' | 'not_listed' | 'mismatch';
  } {
    const { query, documentId } = request;
    if (documentId !== undefined) {
      if (typeof documentId !== 'string') return { refusal: 'not_found' };
      const body = manifest?.body(documentId);
      if (body === undefined) return { refusal: 'not_found' };
      if (typeof query === 'string' && query !== '' && query !== body) return { refusal: 'mismatch' };
      return { query: body };
    }
    if (only && typeof query === 'string' && query !== '' && !manifest!.lists(query)) return { refusal: 'not_listed' };
    return {};
  }

  async function refuseNotListed(caller: Caller | undefined, correlationId: string, request: string, text: string): Promise<EcsError> {
    const digest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
    const pointer = await options.throttle.record(
      `persisted|${principalOf(caller)}`,
      {
        tenantId: await chainTenant(options.db, caller),
        actor: caller ? actorOf(caller) : 'unauthenticated',
        correlationId,
        eventType: 'request.refusal',
        refusal: { reasonClass: 'policy_denied', reasonCode: 'operation_not_persisted', subject: request, reason: NOT_LISTED_MESSAGE },
        details: {
          operation_digest: digest,
          operation_length: text.length,
          ...(caller?.authMethod ? { auth_method: caller.authMethod } : {}),
        },
      },
      options.throttle.perSource,
    );
    return new EcsError(ErrorCode.Forbidden, NOT_LISTED_MESSAGE, { evidencePointer: pointer });
  }

  const refusalError = (refusal: 'not_found' | 'mismatch') =>
    refusal === 'not_found'
      ? new EcsError(ErrorCode.BadRequest, 'documentId names no operation of the persisted-operation manifest', { field: 'documentId' })
      : new EcsError(ErrorCode.BadRequest, 'query is not the document that documentId names; send one of them', { field: 'query' });

  /** After the input boundary's checks, before Apollo: resolves documentId, enforces the safelist. */
  const httpRequest: RequestHandler = (req, res, next) => {
    const get = req.method === 'GET';
    const at = req.url.indexOf('?');
    const search = new URLSearchParams(get && at !== -1 ? req.url.slice(at + 1) : '');
    const body = req.body as Record<string, unknown> | undefined;
    const request = get
      ? { query: search.get('query') ?? undefined, documentId: search.get('documentId') ?? undefined }
      : typeof body === 'object' && body !== null && !Array.isArray(body)
        ? body
        : undefined;
    if (!request) return next();
    const resolution = resolve(request);
    if (resolution.refusal === 'not_listed') {
      const { caller, requestId, log } = res.locals as Partial<AuthenticatedLocals>;
      refuseNotListed(caller, requestId ?? '', `${req.method} /graphql`, String(request.query)).then(next, (error: unknown) => {
        log?.error({ err: error }, 'persisted-operation refusal evidence not recorded');
        next(new EcsError(ErrorCode.Forbidden, NOT_LISTED_MESSAGE));
      });
      return;
    }
    if (resolution.refusal) return next(refusalError(resolution.refusal));
    if (resolution.query !== undefined) {
      if (get) {
        search.delete('documentId');
        search.set('query', resolution.query);
        req.url = `${at === -1 ? req.url : req.url.slice(0, at)}?${search.toString()}`;
      } else {
        const { documentId: _resolved, ...rest } = request as Record<string, unknown>;
        req.body = { ...rest, query: resolution.query };
      }
    }
    next();
  };

  /**
   * A websocket subscribe message: resolves a documentId or a listed persisted-query hash
   * (graphql-ws carries no automatic persisted queries; `query` may be empty then) into
   * the payload's `query`, and enforces the safelist. Returns the payload to run, or the
   * errors to send. Synchronous unless it refuses: graphql-ws counts a connection's
   * subscriptions as they arrive, and the per-connection limit must see only earlier ones.
   */
  function subscribe(
    payload: SubscribePayload,
    caller: Caller | undefined,
    correlationId: string,
  ): { payload: SubscribePayload } | { errors: GraphQLError[] | Promise<GraphQLError[]> } {
    const extensions = payload.extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined;
    const hash = extensions?.persistedQuery?.sha256Hash;
    const documentId = (payload as { documentId?: unknown }).documentId ?? (payload.query === '' && hash !== undefined ? hash : undefined);
    const resolution = resolve({ query: payload.query, documentId });
    if (resolution.refusal === 'not_listed') {
      return {
        errors: refuseNotListed(caller, correlationId, 'websocket subscribe', payload.query).then((refusal) => [refusal.toGraphQLError()]),
      };
    }
    if (resolution.refusal === 'not_found' && documentId === hash) {
      return {
        errors: [
          new GraphQLError('PersistedQueryNotFound', { extensions: { code: ErrorCode.BadRequest, field: 'extensions.persistedQuery' } }),
        ],
      };
    }
    if (resolution.refusal) return { errors: [refusalError(resolution.refusal).toGraphQLError()] };
    return { payload: resolution.query === undefined ? payload : { ...payload, query: resolution.query } };
  }

  /**
   * The store of Apollo Server's automatic persisted queries: the manifest, and registrations
   * unless the safelist is on (shared with the other replicas once `cache.shareThrough` is called).
   */
  const cache = persistedQueryCache({ manifest, registration: !only });

  return { httpRequest, subscribe, cache };
}

export type PersistedOperations = ReturnType<typeof persistedOperations>;
