import type { ApolloServer } from '@apollo/server';
import express, { Router } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import type { GatewayContext } from '../gateway/gateway-context';
import { EcsError, ErrorCode } from '../lib/errors';
import { isDatabaseUnavailable } from '../lib/db/unavailable';
import { verifyJsonBody } from '../lib/http/input-boundary';
import type { inputBoundary } from '../lib/http/input-boundary';
import { sendError } from '../lib/http/error-body';
import type { RequestLocals } from '../lib/http/request-log';
import { executeOperation } from './execute-operation';
import { startIdempotent } from './idempotency';
import { authorize } from '../lib/subgraph/authorize';
import type { Database } from '../lib/db/database';
import { buildOpenApi } from './openapi';
import { QUERY_ERROR_CODES } from './route-table';
import type { RouteDef } from './route-table';
import { ROUTES } from './routes';
import { unversionedRoutes } from './unversioned-aliases';

export const BODY_LIMIT = '1mb';

export interface RestRouterOptions {
  apollo: ApolloServer<GatewayContext>;
  /** Authentication for everything but `/openapi.json` (which is public). */
  authenticate?: RequestHandler;
  routes?: readonly RouteDef[];
  /** Keeps Idempotency-Key responses of POST routes (absent: the header is ignored). */
  db?: Database;
  /** The gateway's input boundary (absent: bodies are only checked for shape and UTF-8). */
  boundary?: ReturnType<typeof inputBoundary>;
}

/** The one error mapper of the REST surface: anything thrown becomes an EcsError (status from ERROR_STATUS). */
export function toEcsError(error: unknown): EcsError | undefined {
  if (error instanceof EcsError) return error;
  const { status, type } = (error ?? {}) as { status?: number; type?: string };
  if (type === 'entity.too.large' || status === 413)
    return new EcsError(ErrorCode.PayloadTooLarge, `request body is larger than ${BODY_LIMIT}`);
  if (type === 'entity.parse.failed') return new EcsError(ErrorCode.BadRequest, 'request body is not valid JSON');
  if (status === 415 || type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new EcsError(ErrorCode.UnsupportedMediaType, 'unsupported content type, charset or encoding');
  }
  if (typeof status === 'number' && status >= 400 && status < 500) return new EcsError(ErrorCode.BadRequest, 'bad request');
  if (isDatabaseUnavailable(error)) return new EcsError(ErrorCode.DependencyUnavailable, 'the database is not available; retry later');
  return undefined;
}

function mapErrors(error: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  const mapped = toEcsError(error);
  if (!mapped) (res.locals as Partial<RequestLocals>).log?.error({ err: error }, 'unhandled REST error');
  sendError(res, mapped ?? new EcsError(ErrorCode.Internal, 'internal error'));
}

/** A zod failure as a 400 naming the field (query `limit` failures are ECS_INVALID_PAGE_SIZE). */
export function validationError(error: z.ZodError, where: 'body' | 'query'): EcsError {
  const issue = error.issues[0]!;
  const noun = where === 'body' ? 'field' : 'query parameter';
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path, issue.keys[0]].join('.');
    return new EcsError(ErrorCode.BadRequest, `unknown ${noun}: ${field}`, { field });
  }
  const field = issue.path.join('.');
  if (!field) {
    return new EcsError(ErrorCode.BadRequest, where === 'body' ? 'request body must be a JSON object' : 'invalid query', { field: where });
  }
  const code = where === 'query' ? QUERY_ERROR_CODES[field] : undefined;
  if (code === ErrorCode.InvalidPageSize) return new EcsError(code, `${field} must be an integer from 1 to 1000`, { field });
  return new EcsError(code ?? ErrorCode.BadRequest, `${noun} ${field}: ${issue.message}`, { field });
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** JSON bodies only, only on POST/PATCH; everything else is refused before parsing. */
function bodyGate(route: RouteDef): RequestHandler {
  return (req, _res, next) => {
    if (!hasBody(req)) return next();
    if (route.method !== 'post' && route.method !== 'put' && route.method !== 'patch') {
      return next(new EcsError(ErrorCode.UnsupportedMediaType, `${req.method} ${req.baseUrl}${req.path} takes no request body`));
    }
    if (req.is('application/json') !== 'application/json') {
      return next(new EcsError(ErrorCode.UnsupportedMediaType, 'request body must be application/json'));
    }
    next();
  };
}

/** Serves one route: validate, run the handler (one GraphQL operation), send the success status. */
function serve(route: RouteDef, apollo: ApolloServer<GatewayContext>, db: Database | undefined): RequestHandler {
  const emptyBody = (body: unknown) =>
    body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
  return async (req, res, next) => {
    try {
      let body: unknown;
      if (route.body) {
        if (!hasBody(req) || req.body === undefined)
          throw new EcsError(ErrorCode.BadRequest, 'request body is required (application/json)', { field: 'body' });
        const parsed = route.body.safeParse(req.body);
        if (!parsed.success) throw validationError(parsed.error, 'body');
        body = parsed.data;
      } else if (!emptyBody(req.body)) {
        const field = typeof req.body === 'object' && req.body !== null ? Object.keys(req.body)[0] : undefined;
        throw new EcsError(ErrorCode.BadRequest, field ? `unknown field: ${field}` : 'this route takes no request body', {
          field: field ?? 'body',
        });
      }
      let query: unknown = {};
      const rawQuery = req.query as Record<string, unknown>;
      if (route.query) {
        const parsed = route.query.safeParse(rawQuery);
        if (!parsed.success) throw validationError(parsed.error, 'query');
        query = parsed.data;
      } else if (Object.keys(rawQuery).length > 0) {
        const field = Object.keys(rawQuery)[0]!;
        throw new EcsError(ErrorCode.BadRequest, `unknown query parameter: ${field}`, { field });
      }
      const locals = res.locals as AuthenticatedLocals;
      const idempotencyKey = route.method === 'post' && db ? req.headers['idempotency-key'] : undefined;
      const claim =
        typeof idempotencyKey === 'string'
          ? await startIdempotent(db!, locals.caller, idempotencyKey, {
              method: req.method,
              path: req.originalUrl.split('?')[0]!,
              body: req.body,
            })
          : undefined;
      if (claim?.kind === 'replay') {
        // A stored response is as governed as a new request: the caller must still be allowed
        // the route's action on its tenant, or gets the refusal (with evidence), not the body.
        const { action, tenant } = route.governs!;
        const targetTenant = tenant?.({ body, params: req.params as Record<string, string>, caller: locals.caller });
        await authorize({ db: db!, caller: locals.caller, correlationId: locals.requestId }, action, targetTenant, {
          idempotency_replay: true,
        });
        res.setHeader('idempotent-replayed', 'true');
        if (claim.status === 204) res.status(204).end();
        else res.status(claim.status).json(claim.body);
        return;
      }
      let result: unknown;
      try {
        result = await route.handler({
          body,
          query,
          params: req.params as Record<string, string>,
          caller: locals.caller,
          res,
          execute: (document, variables = {}) =>
            executeOperation(apollo, { requestId: locals.requestId, log: locals.log, caller: locals.caller }, document, variables),
        });
      } catch (error) {
        await claim?.abandon();
        throw error;
      }
      await claim?.finish(route.status, result);
      if (route.status === 204) res.status(204).end();
      else res.status(route.status).json(result);
    } catch (error) {
      next(error);
    }
  };
}

/** The `/v1` router generated from the route table; `/v1/openapi.json` needs no credentials. */
export function createRestRouter({ apollo, authenticate, db, boundary, routes = ROUTES }: RestRouterOptions): Router {
  const ungoverned = db ? routes.find((route) => route.method === 'post' && !route.governs) : undefined;
  if (ungoverned) throw new Error(`POST ${ungoverned.path} names no governed action: its Idempotency-Key replays could not be authorized`);
  const router = Router();
  let openApi: string | undefined;
  router.get('/openapi.json', (_req, res) => {
    openApi ??= JSON.stringify(buildOpenApi(routes, { unversioned: unversionedRoutes(routes) }));
    res.type('application/json').send(openApi);
  });
  // Every other /v1 path needs credentials (also unknown ones, which then fall through to the
  // app's 404, as do paths another /v1 router mounted after this one serves). Not twice.
  if (authenticate) {
    router.use((req, res, next) => {
      if ((res.locals as Partial<AuthenticatedLocals>).caller) return next();
      authenticate(req, res, next);
    });
  }
  const json = express.json({ limit: BODY_LIMIT, strict: true, type: () => true, verify: verifyJsonBody });
  const bodyText: RequestHandler = boundary?.jsonBody ?? ((_req, _res, next) => next());
  for (const route of routes) router[route.method](route.path, bodyGate(route), json, bodyText, serve(route, apollo, db));
  if (boundary) router.use(boundary.refuse);
  router.use(mapErrors);
  return router;
}
