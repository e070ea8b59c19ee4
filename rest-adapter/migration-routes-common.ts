import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';
import type { MigrationRequestContext } from '../lib/migration/export-jobs';
import { toEcsError } from './rest-router';

/** Who asks, and the id their request's evidence shares. */
export function migrationContextOf(res: Response): MigrationRequestContext {
  const locals = res.locals as AuthenticatedLocals;
  return { caller: locals.caller, correlationId: locals.requestId };
}

/** Runs an async handler; anything thrown leaves through the router's error handler. */
export function handleAsync(work: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    work(req, res).catch(next);
  };
}

/**
 * The end of a migration router: an authenticated 404 for any other path under it, and the
 * error handler mapping what was thrown to the spec's error body (a masked 500, logged, for
 * anything unexpected; a response already under way is cut).
 */
export function finishMigrationRouter(router: Router, authenticate: RequestHandler, what: string): Router {
  router.use(authenticate, (req: Request, res: Response) =>
    sendError(res, new EcsError(ErrorCode.NotFound, `no route for ${req.method} ${req.originalUrl.split('?')[0]!}`)),
  );
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const mapped = toEcsError(error);
    if (!mapped) (res.locals as Partial<AuthenticatedLocals>).log?.error({ err: error }, `${what} request failed`);
    sendError(res, mapped ?? new EcsError(ErrorCode.Internal, 'internal error'));
  });
  return router;
}
